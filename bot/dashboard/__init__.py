"""The staff web dashboard at /admin: sign-in, roles, the overview with charts, members, exports, audit log.

`init_dashboard(app)` binds Flask-Login, Flask-Limiter and the blueprint. Every form is a Flask-WTF form
(CSRF-checked). Pages are listed in `NAV` with the roles that may open them; add a page by adding a
route with `@role_required(...)` and a `NavEntry`.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager

from bot.dashboard.nav import NAV, NavEntry, role_required

login_manager = LoginManager()
# Checked only for the dashboard's own requests (see init_dashboard): the webhooks take no per-request
# limiter work.
limiter = Limiter(key_func=get_remote_address, default_limits=[], auto_check=False)

__all__ = ["NAV", "NavEntry", "init_dashboard", "limiter", "login_manager", "role_required"]


def init_dashboard(app: Flask) -> None:
    """Bind the dashboard's extensions and register its blueprint."""
    from bot.dashboard import broadcasts as broadcast_pages  # noqa: F401  (its routes join the blueprint)
    from bot.dashboard import errors, reports, review, views  # noqa: F401  (review: the certificates, vouchers and tickets pages)
    from bot.extensions import db
    from bot.models import DashboardUser
    from bot.services import notes  # noqa: F401  (registers the notes' erasure hook)
    from bot.services.redis_conn import limits_uri

    app.config.setdefault("RATELIMIT_STORAGE_URI", limits_uri(app.config.get("REDIS_URL")))
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_id: str) -> DashboardUser | None:
        """The signed-in user, if still active."""
        user = db.session.get(DashboardUser, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and user.active else None

    limiter.init_app(app)
    app.register_blueprint(views.bp)
    views.mount_jobs(app)
