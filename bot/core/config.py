"""Settings, read from the environment (a `.env` file works too); every one has a working default."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, overload

from bot.core.i18n import SOURCE_LANGUAGE, parse_languages
from flows.faq import ANSWER_THRESHOLD, OFFER_THRESHOLD

DEFAULT_UNION_NAME = "Kenya Union of Gig Workers"
DEFAULT_DUES = "KES 50 a month"
# Settings shown to members that may differ per language, and their defaults in each language (used only
# while the setting itself is left at its default: a union that sets MEMBERSHIP_DUES sets MEMBERSHIP_DUES_SW).
PER_LANGUAGE_SETTINGS: dict[str, dict[str, str]] = {
    "UNION_NAME": {},
    "MEMBERSHIP_DUES": {"sw": "KES 50 kwa mwezi", "fr": "KES 50 par mois", "so": "KES 50 bishiiba",
                        "ar": "50 شلنًا كينيًا في الشهر"},
    "DUES_PAYMENT": {},
}


@overload
def env_str(name: str, default: str) -> str: ...
@overload
def env_str(name: str, default: None = None) -> str | None: ...
def env_str(name: str, default: str | None = None) -> str | None:
    """A string setting; empty counts as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    """A whole-number setting."""
    value = env_str(name)
    return int(value) if value is not None else default


def env_float(name: str, default: float) -> float:
    """A decimal setting."""
    value = env_str(name)
    return float(value) if value is not None else default


def env_bool(name: str, default: bool) -> bool:
    """A yes/no setting: 1, true, yes and on are true."""
    value = env_str(name)
    return default if value is None else value.lower() in {"1", "true", "yes", "on"}


def env_json(name: str, default: Any) -> Any:
    """A JSON setting, e.g. WHATSAPP_TEMPLATES='{"reminder": {"en": "HX…", "sw": "HX…"}}'."""
    value = env_str(name)
    return json.loads(value) if value is not None else default


def persistent_secret(instance_path: Path, filename: str) -> str:
    """A random secret kept in the instance folder, so restarts and other processes share it."""
    path = instance_path / filename
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(24)
    path.write_text(value)
    return value


def load_settings(instance_path: Path) -> dict[str, Any]:
    """Every setting the app reads, with its default."""
    database_url = env_str("DATABASE_URL", f"sqlite:///{instance_path / 'umoja.db'}")
    if database_url.startswith("postgres://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgres://")
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    twilio_sid = env_str("TWILIO_ACCOUNT_SID")
    twilio_token = env_str("TWILIO_AUTH_TOKEN")
    https = (env_str("PUBLIC_URL") or "").startswith("https://")
    languages = parse_languages(env_str("LANGUAGES"))
    default_language = (env_str("DEFAULT_LANGUAGE", languages[0]) or "").lower()
    if default_language not in languages:
        raise ValueError(f"DEFAULT_LANGUAGE {default_language!r} is not one of LANGUAGES ({','.join(languages)})")
    template_fallback = env_str("TEMPLATE_FALLBACK", SOURCE_LANGUAGE).lower()
    template_fallback = "" if template_fallback == "none" else template_fallback
    if template_fallback and template_fallback not in languages:
        raise ValueError(f"TEMPLATE_FALLBACK {template_fallback!r} is not one of LANGUAGES ({','.join(languages)})")
    return {
        "SECRET_KEY": env_str("SECRET_KEY") or persistent_secret(instance_path, "secret_key"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env_str("REDIS_URL"),
        "TWILIO_ACCOUNT_SID": twilio_sid,
        "TWILIO_AUTH_TOKEN": twilio_token,
        # With no Twilio account, the simulator signs requests with this local token: one code path.
        "WEBHOOK_AUTH_TOKEN": twilio_token or persistent_secret(instance_path, "local_auth_token"),
        "TWILIO_WHATSAPP_FROM": env_str("TWILIO_WHATSAPP_FROM", "whatsapp:+14155238886"),
        "TWILIO_API_BASE_URL": env_str("TWILIO_API_BASE_URL"),
        "TWILIO_HTTP_TIMEOUT": env_float("TWILIO_HTTP_TIMEOUT", 10.0),
        "PUBLIC_URL": (env_str("PUBLIC_URL", "http://127.0.0.1:5000") or "").rstrip("/"),
        # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none; trust no such header).
        "TRUSTED_PROXIES": env_int("TRUSTED_PROXIES", 0),
        # Operating it: JSON log lines where it runs for real (a database or Twilio configured), text on a
        # laptop; error reporting and /metrics are off until configured.
        "LOG_FORMAT": (env_str("LOG_FORMAT") or ("json" if env_str("DATABASE_URL") or twilio_sid else "text")).lower(),
        "LOG_LEVEL": (env_str("LOG_LEVEL") or "INFO").upper(),
        "SENTRY_DSN": env_str("SENTRY_DSN"),
        "SENTRY_ENVIRONMENT": env_str("SENTRY_ENVIRONMENT"),
        "METRICS_TOKEN": env_str("METRICS_TOKEN"),
        "UNION_NAME": env_str("UNION_NAME", DEFAULT_UNION_NAME),
        "UNION_SHORT_NAME": env_str("UNION_SHORT_NAME", "KUGWO"),
        "MEMBER_NUMBER_PREFIX": env_str("MEMBER_NUMBER_PREFIX", "KUGWO"),
        "HELP_CONTACT": env_str("HELP_CONTACT", ""),
        # The languages members are served in, in the order they are offered; every part reads this one list.
        "LANGUAGES": languages,
        "DEFAULT_LANGUAGE": default_language,
        "CONSENT_VERSION": env_str("CONSENT_VERSION", "2026-12"),
        # Who answers for members' data (empty: UNION_NAME) and how to reach them (empty: an organiser, via AGENT).
        "DATA_CONTROLLER": env_str("DATA_CONTROLLER", ""),
        "DATA_PROTECTION_CONTACT": env_str("DATA_PROTECTION_CONTACT", ""),
        "CONVERSATION_TIMEOUT_HOURS": env_float("CONVERSATION_TIMEOUT_HOURS", 24.0),
        "RESUME_NOTICE_MINUTES": env_float("RESUME_NOTICE_MINUTES", 30.0),
        "TIMEZONE": env_str("TIMEZONE", "Africa/Nairobi"),
        "COURSE_STATS_MAX_AGE": env_int("COURSE_STATS_MAX_AGE", 300),
        "WHATSAPP_TEMPLATES": env_json("WHATSAPP_TEMPLATES", {}),
        # The template language used for a member whose language has no approved template (Meta has none in
        # Somali); "none" (kept as ""): such members get nothing outside the 24-hour window.
        "TEMPLATE_FALLBACK": template_fallback,
        "AUTO_MIGRATE": env_bool("AUTO_MIGRATE", database_url.startswith("sqlite")),
        "SIMULATOR_ENABLED": env_bool("SIMULATOR_ENABLED", twilio_sid is None),
        "STORAGE_DIR": env_str("STORAGE_DIR", str(instance_path / "storage")),
        # The TrueType font of the MY DATA document (empty: DejaVu Sans, found with fontconfig's fc-match).
        "PDF_FONT": env_str("PDF_FONT", ""),
        "FAQ_FILE": env_str("FAQ_FILE", str(Path(__file__).resolve().parents[2] / "data" / "faq.yaml")),
        "FAQ_MATCH_THRESHOLD": env_float("FAQ_MATCH_THRESHOLD", ANSWER_THRESHOLD),
        "FAQ_OFFER_THRESHOLD": env_float("FAQ_OFFER_THRESHOLD", OFFER_THRESHOLD),
        "MEMBERSHIP_DUES": env_str("MEMBERSHIP_DUES", DEFAULT_DUES),
        # How members pay dues (e.g. "M-Pesa paybill …, account: your member number"); empty: an organiser tells them.
        "DUES_PAYMENT": env_str("DUES_PAYMENT", ""),
        # Settings shown to members may be given per language: UNION_NAME_SW, MEMBERSHIP_DUES_FR, DUES_PAYMENT_AR…
        **{f"{name}_{lang.upper()}": env_str(f"{name}_{lang.upper()}", default.get(lang) if not env_str(name) else None)
           for name, default in PER_LANGUAGE_SETTINGS.items() for lang in languages if lang != SOURCE_LANGUAGE},
        "RETENTION_DAYS": env_int("RETENTION_DAYS", 180),
        # People who neither consent nor refuse are forgotten this many days after their last message.
        "PROSPECT_DAYS": env_int("PROSPECT_DAYS", 30),
        "REMINDER_OFFSETS_DAYS": [int(d) for d in (env_str("REMINDER_OFFSETS_DAYS", "3,7,14") or "").split(",") if d.strip()],
        "QUIET_HOURS": env_str("QUIET_HOURS", "20:00-08:00"),
        "CERTIFICATE_REVIEW_DAYS": env_int("CERTIFICATE_REVIEW_DAYS", 3),
        "CERTIFICATE_MAX_BYTES": env_int("CERTIFICATE_MAX_BYTES", 5 * 1024 * 1024),
        "TWILIO_MEDIA_HOSTS": (env_str("TWILIO_MEDIA_HOSTS", "api.twilio.com,media.twiliocdn.com,mms.twiliocdn.com") or "").split(","),
        "MEDIA_DOWNLOAD_SECONDS": env_float("MEDIA_DOWNLOAD_SECONDS", 20.0),
        "DASHBOARD_LOGIN_LIMIT": env_str("DASHBOARD_LOGIN_LIMIT", "5 per minute;20 per hour"),
        "DASHBOARD_ACCOUNT_LOGIN_LIMIT": env_str("DASHBOARD_ACCOUNT_LOGIN_LIMIT", "10 per hour"),
        "SESSION_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE", https),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env_bool("SESSION_COOKIE_SECURE", https),
        "REMEMBER_COOKIE_HTTPONLY": True,
        # Broadcasts and the sending pipeline.
        "SEND_RATE_PER_SECOND": env_int("SEND_RATE_PER_SECOND", 80),
        "WHATSAPP_SENDERS": env_json("WHATSAPP_SENDERS", []),
        "SEND_CONCURRENCY": env_int("SEND_CONCURRENCY", 64),
        "BROADCAST_BATCH_SIZE": env_int("BROADCAST_BATCH_SIZE", 256),
        "BROADCAST_JOBS": env_int("BROADCAST_JOBS", 2),
        "BROADCAST_LEASE_SECONDS": env_int("BROADCAST_LEASE_SECONDS", 120),
        "BROADCAST_TEMPLATE": env_str("BROADCAST_TEMPLATE", "broadcast"),
        "BROADCAST_MAX_ATTEMPTS": env_int("BROADCAST_MAX_ATTEMPTS", 5),
        "BROADCAST_RETRY_SECONDS": env_float("BROADCAST_RETRY_SECONDS", 2.0),
        # Status callbacks: appended to a Redis stream and applied in batches (`stream`), or applied in the
        # request as before (`inline`: no `worker.py --statuses` needed, far fewer callbacks per second).
        "STATUS_APPLY": (env_str("STATUS_APPLY") or "stream").lower(),
        "STATUS_BATCH_SIZE": env_int("STATUS_BATCH_SIZE", 500),
        # Inbound messages: taken by the plain WSGI callable ahead of Flask (`wsgi`) or by Flask's view
        # (`flask`, the old path); read once at start-up.
        "INBOUND_PATH": (env_str("INBOUND_PATH") or "wsgi").lower(),
        "STATUS_CLAIM_SECONDS": env_float("STATUS_CLAIM_SECONDS", 30.0),
    }
