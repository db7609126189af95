"""`flask translate …`: the message catalogs (pybabel), and their completeness per language."""

from __future__ import annotations

from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from flask.cli import AppGroup

from bot.core import i18n
from bot.core.translation_files import TranslationFileError, export, import_file

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


@translate.command("export")
@click.option("--lang", "lang", required=True, help="The language to translate into (one of LANGUAGES).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default=None,
              help="csv (the default) or xlsx; without it, the --out file's ending decides.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The file to write (default: translations-LANG.csv or .xlsx here).")
def export_command(lang: str, fmt: str | None, out: Path | None) -> None:
    """Write every message of every domain in one language as a spreadsheet for a translator: msgid, the
    English, the current translation, its context and notes (one row per plural form)."""
    fmt = fmt or (out.suffix.lower().lstrip(".") if out is not None and out.suffix.lower() in (".csv", ".xlsx")
                  else "csv")
    target = out or Path(f"translations-{lang}.{fmt}")
    try:
        data = export(lang, fmt)
    except TranslationFileError as error:
        raise click.ClickException(str(error)) from error
    target.write_bytes(data)
    click.echo(f"wrote {target}: fill in the 'translation' column, then run flask translate import {target}")


@translate.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Read a translator's file (from `translate export`, CSV or XLSX) back into the catalogs; a broken row
    refuses the whole file and nothing is written."""
    try:
        report = import_file(path)
    except TranslationFileError as error:
        click.echo(f"{path}: not imported, nothing was written:", err=True)
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        raise SystemExit(1) from error
    click.echo(f"{report.language}: {report.changed} message(s) changed"
               + (f" in {', '.join(report.files)}" if report.files else "")
               + "; flask translate status shows what is left")
