"""The staff web dashboard at /admin: sign-in, roles, the overview with charts, members, exports, audit log.

`init_dashboard(app)` binds Flask-Login, the sign-in limits and the blueprint. Every form is a Flask-WTF form
(CSRF-checked). Pages are listed in `NAV` (`bot/dashboard/nav.py`) with the roles that may open them; add
a page by adding a route with `@role_required(...)` and its `NavEntry` there.
"""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from bot.dashboard.nav import NAV, NavEntry, role_required

login_manager = LoginManager()

__all__ = ["NAV", "NavEntry", "init_dashboard", "login_manager", "role_required"]


def init_dashboard(app: Flask) -> None:
    """Bind the dashboard's extensions and register its blueprint."""
    from bot.core.redis_conn import limits_uri
    from bot.dashboard import broadcasts as broadcast_pages  # noqa: F401  (its routes join the blueprint)
    from bot.dashboard import (  # noqa: F401  (their routes join the blueprint)
        campaigns,  # broadcasts' results
        errors,
        inbox,  # the tickets inbox and saved answers
        languages,
        member_export,
        message_templates,
        reports,
        review,  # the certificates and vouchers pages
        views,
    )
    from bot.dashboard import users as dashboard_users
    from bot.dashboard.sign_in_limits import init_sign_in_limits
    from bot.models import DashboardUser

    app.config.setdefault("DASHBOARD_LIMITS_STORAGE_URI", limits_uri(app.config.get("REDIS_URL")))
    init_sign_in_limits(app, app.config["DASHBOARD_LIMITS_STORAGE_URI"])
    login_manager.init_app(app)
    login_manager.login_view = "admin.login"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str) -> DashboardUser | None:
        """The signed-in user, if still active and the session not ended by a sign-out or a new password."""
        return dashboard_users.user_of_session(session_id)

    app.register_blueprint(views.bp)
    views.mount_jobs(app)
