"""`flask translate …`: the message catalogs (pybabel), and their completeness per language."""

from __future__ import annotations

from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from flask.cli import AppGroup

from bot.core import i18n

translate = AppGroup("translate", help="Extract, update and compile the message catalogs (pybabel).")


def pybabel(*args: str) -> None:
    """Run one pybabel command in-process."""
    CommandLineInterface().run(["pybabel", "-q", *args])


def pot_path(domain: str) -> Path:
    """Where a domain's extracted template goes."""
    return i18n.LOCALES_DIR / f"{domain}.pot"


@translate.command("extract")
def extract() -> None:
    """Collect every marked message from the code into one .pot template per domain."""
    for domain, paths in i18n.DOMAINS.items():
        pybabel("extract", "-F", str(i18n.LOCALES_DIR / "babel.cfg"), "-k", "N_", "-k", "NP_:1,2", "-c", "Translators:",
                "--sort-by-file", "--omit-header", "-o", str(pot_path(domain)),
                *[str(i18n.ROOT / p) for p in paths])
    click.echo(f"extracted {len(i18n.DOMAINS)} domains into {i18n.LOCALES_DIR}")


@translate.command("update")
@click.pass_context
def update(ctx: click.Context) -> None:
    """Extract, then merge new messages into every language's catalog (creating missing ones)."""
    ctx.invoke(extract)
    for domain in i18n.DOMAINS:
        for lang in i18n.LANGUAGES:
            po = i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"
            action = "update" if po.exists() else "init"
            pybabel(action, "-i", str(pot_path(domain)), "-d", str(i18n.LOCALES_DIR), "-D", domain, "-l", lang)
    i18n.reload()
    click.echo("catalogs updated; translate the new entries in locales/<language>/LC_MESSAGES/*.po")


@translate.command("compile")
def compile_catalogs() -> None:
    """Compile .po catalogs into .mo files (optional: the app reads the .po files directly)."""
    for domain in i18n.DOMAINS:
        pybabel("compile", "-d", str(i18n.LOCALES_DIR), "-D", domain, "--statistics")


@translate.command("check")
def check() -> None:
    """List messages missing a translation; fails when any language is incomplete."""
    from bot.core.i18n_check import missing_translations

    problems = missing_translations()
    for problem in problems:
        click.echo(problem)
    if problems:
        raise SystemExit(1)
    click.echo("every message is translated in " + ", ".join(i18n.LANGUAGES))


@translate.command("status")
def status() -> None:
    """A table of how complete each configured language is in each domain; fails when a required one is not
    (English and Swahili: every domain; any other language: the domains members read)."""
    from bot.core.i18n_check import coverage

    rows = coverage()
    domains = list(i18n.DOMAINS)
    click.echo(f"{'language':<10}" + "".join(f"{domain:>12}" for domain in domains))
    by_language: dict[str, dict[str, str]] = {}
    for row in rows:
        mark = "" if row.required else "*"
        by_language.setdefault(row.lang, {})[row.domain] = f"{row.percent:.0f}%{mark}"
    for lang, cells in by_language.items():
        click.echo(f"{lang:<10}" + "".join(f"{cells[domain]:>12}" for domain in domains))
    click.echo("* read by staff only: may fall back to English")
    incomplete = sorted({row.lang for row in rows if row.required and row.problems})
    if incomplete:
        click.echo("incomplete: " + ", ".join(incomplete) + " (flask translate check lists the messages)")
        raise SystemExit(1)
