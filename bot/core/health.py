"""GET /healthz: whether the database and Redis answer."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from bot.core.extensions import db
from bot.core.redis_conn import connect

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """200 when the database answers (Redis down is reported, not fatal: inbound still works); else 503."""
    report = {"database": "ok", "redis": "ok"}
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception:  # noqa: BLE001  (any failure means the database is not usable)
        db.session.rollback()
        report["database"] = "unavailable"
    try:
        connect().ping()
    except Exception:  # noqa: BLE001
        report["redis"] = "unavailable"
    report["status"] = "ok" if report["database"] == "ok" and report["redis"] == "ok" else "degraded"
    return jsonify(report), 200 if report["database"] == "ok" else 503
