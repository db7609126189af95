"""`flask staff …`: staff numbers and their roles."""

from __future__ import annotations

import click
from flask.cli import AppGroup

staff = AppGroup("staff", help="Staff numbers and their roles (officer, organiser, admin).")


@staff.command("add")
@click.argument("phone")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(["officer", "organiser", "admin"]))
@click.option("--name", default=None)
def staff_add(phone: str, roles: tuple[str, ...], name: str | None) -> None:
    """Add a staff number (a phone number, or a WhatsApp user id such as US.1349…) with one or more roles
    (repeat --role)."""
    from bot.members.service import staff_identity
    from bot.members.staff_numbers import add_staff

    number = staff_identity(phone)
    if number is None:
        raise click.BadParameter("not a phone number or a WhatsApp user id", param_hint="PHONE")
    member = add_staff(number, list(roles), name)
    click.echo(f"{member.phone}: {member.roles}")


@staff.command("list")
def staff_list() -> None:
    """List staff numbers and roles."""
    from bot.members.staff_numbers import list_staff

    for member in list_staff():
        click.echo(f"{member.phone}\t{member.roles}\t{member.name or ''}")


@staff.command("remove")
@click.argument("phone")
@click.option("--role", "roles", multiple=True, type=click.Choice(["officer", "organiser", "admin"]),
              help="Remove only these roles (default: the whole staff number).")
def staff_remove(phone: str, roles: tuple[str, ...]) -> None:
    """Remove a staff number, or some of its roles."""
    from bot.members.service import staff_identity
    from bot.members.staff_numbers import remove_staff

    number = staff_identity(phone)
    if number is None or not remove_staff(number, list(roles) or None):
        raise click.ClickException(f"{phone} is not a staff number")
    click.echo(f"removed {', '.join(roles) if roles else 'staff number'} {number}")
