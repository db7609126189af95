"""`flask admin create-user` and `set-password`: dashboard accounts from the command line (the first admin)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

admin = AppGroup("admin", help="Dashboard accounts for staff (officer, organiser, admin).")


@admin.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["officer", "organiser", "admin"]), default="admin", show_default=True)
@click.option("--name", default=None)
@click.password_option(help="At least 10 characters; asked for when not given.")
def create_user_command(email: str, role: str, name: str | None, password: str) -> None:
    """Create a dashboard account with a hashed password."""
    from bot.dashboard.users import create_user

    try:
        user = create_user(email, password, role, name=name)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"created {user.role} {user.email}")


@admin.command("set-password")
@click.argument("email")
@click.password_option(help="At least 10 characters; asked for when not given.")
def set_password_command(email: str, password: str) -> None:
    """Give a dashboard account a new password; every signed-in session of the account ends."""
    from bot.dashboard.users import set_password

    try:
        user = set_password(email, password)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"new password for {user.email}; its sessions are signed out")
