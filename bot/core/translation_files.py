"""Catalogs as a spreadsheet, for translators who do not use gettext: `flask translate export` writes one row per
message (or per plural form) of every domain in one language, `flask translate import` reads the rows back.

The catalogs are read and written with Babel's own reader and writer (`babel.messages.pofile`). An import is
checked whole before anything is written: a row whose placeholders differ from the English, a plural message
with a form left empty, an unknown message or a row given twice refuses the file with the row's number, its
msgid and what is wrong, and no catalog changes.
"""

from __future__ import annotations

import csv
import gettext
import io
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from bot.core import i18n

COLUMNS = ("language", "domain", "msgid", "form", "english", "translation", "context", "notes")
FORMATS = ("csv", "xlsx")
# Placeholders that must survive translation: the catalogs' %(name)s and the data files' {name}.
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
SAMPLE_NUMBERS = range(0, 111)  # the counts shown beside a plural form: which numbers it is used for
WIDTH = 76  # pybabel's line width, so that an import changes only the lines it must


class TranslationFileError(ValueError):
    """A file that cannot be imported; `problems` says, per row, what is wrong."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class Row:
    """One line of the file: a message, or one plural form of it, in one language."""

    language: str
    domain: str
    msgid: str
    form: str
    english: str
    translation: str
    context: str
    notes: str

    def values(self) -> tuple[str, ...]:
        """The row in the file's column order."""
        return tuple(getattr(self, column) for column in COLUMNS)


@dataclass(frozen=True)
class ImportReport:
    """What an import changed."""

    language: str
    changed: int
    files: tuple[str, ...]


def catalog_path(lang: str, domain: str) -> Path:
    """Where one language's catalog of one domain lives."""
    return i18n.LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(lang: str, domain: str) -> Catalog:
    """One catalog, read with Babel."""
    with catalog_path(lang, domain).open("rb") as handle:
        return read_po(handle, locale=lang)


def placeholders(text: str) -> set[str]:
    """A text's placeholders."""
    return set(PLACEHOLDER.findall(text))


def numbers_for_forms(catalog: Catalog) -> list[list[int]]:
    """For each plural form of a catalog's language, the small numbers that use it."""
    rule = gettext.c2py(catalog.plural_expr)
    forms: list[list[int]] = [[] for _ in range(catalog.num_plurals)]
    for n in SAMPLE_NUMBERS:
        index = rule(n)
        if 0 <= index < len(forms):
            forms[index].append(n)
    return forms


def shown_numbers(numbers: list[int]) -> str:
    """'3, 4, 5, …' for a translator: the first few numbers a plural form is used for."""
    return ", ".join(str(n) for n in numbers[:6]) + (", …" if len(numbers) > 6 else "")


def notes_of(message: Message) -> list[str]:
    """What a translator should know about a message: the comments written for them, where it is used."""
    notes = [*message.auto_comments, *message.user_comments]
    if message.locations:
        notes.append("used in " + ", ".join(f"{path}:{line}" for path, line in message.locations))
    if message.fuzzy:
        notes.append("the current translation is a guess: check it")
    return notes


def rows_of(lang: str, domains: Iterable[str] | None = None) -> Iterator[Row]:
    """Every message of a language's catalogs, one row per message or per plural form."""
    for domain in domains or i18n.DOMAINS:
        catalog = read_catalog(lang, domain)
        forms = numbers_for_forms(catalog)
        for message in catalog:
            if not message.id:
                continue
            context = message.context or ""
            notes = notes_of(message)
            if isinstance(message.id, tuple):
                singular, plural = message.id
                strings = message.string if isinstance(message.string, tuple) else ()
                for index in range(catalog.num_plurals):
                    english = singular if 1 in forms[index] else plural
                    used = f"plural form {index + 1} of {catalog.num_plurals}: used for " + \
                        (shown_numbers(forms[index]) or "no small number")
                    yield Row(lang, domain, singular, str(index), english,
                              str(strings[index]) if index < len(strings) else "", context,
                              " · ".join([used, *notes]))
            else:
                msgid = str(message.id)
                yield Row(lang, domain, msgid, "", msgid, str(message.string or ""), context, " · ".join(notes))


def export(lang: str, fmt: str = "csv") -> bytes:
    """A language's catalogs as a CSV (UTF-8 with a byte order mark, for spreadsheet programs) or an XLSX file."""
    check_language(lang)
    rows = [row.values() for row in rows_of(lang)]
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        return text.getvalue().encode("utf-8-sig")
    if fmt == "xlsx":
        return xlsx_bytes(lang, rows)
    raise ValueError(f"unknown format {fmt!r}: choose {' or '.join(FORMATS)}")


def xlsx_bytes(lang: str, rows: Sequence[Sequence[str]]) -> bytes:
    """The rows as one sheet; every cell is text (a translation starting with '=' is not a formula)."""
    from openpyxl import Workbook  # imported when used: web and worker processes never need it

    workbook = Workbook(write_only=False)
    sheet = workbook.create_sheet(lang, 0)
    workbook.remove(workbook.worksheets[1])
    sheet.append(COLUMNS)
    for values in rows:
        sheet.append(list(values))
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            cell.data_type = "s"
    for letter, width in zip("ABCDEFGH", (9, 11, 50, 6, 50, 50, 10, 50), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def check_language(lang: str) -> None:
    """Refuse a language that is not configured, or the source language (its messages are the code's)."""
    if lang not in i18n.LANGUAGES:
        raise TranslationFileError([f"{lang!r} is not one of the configured languages ({', '.join(i18n.LANGUAGES)})"])
    if lang == i18n.SOURCE_LANGUAGE:
        raise TranslationFileError([f"{lang!r} is the language of the messages themselves: nothing to translate"])


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """The file's rows with their row numbers as a spreadsheet shows them (the header is row 1)."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook  # imported when used, like Workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            lines = [["" if value is None else str(value) for value in line]
                     for line in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                lines = list(csv.reader(handle))
        except UnicodeDecodeError as error:
            raise TranslationFileError([f"{path}: not UTF-8 text (byte {error.start}): save it as \"CSV UTF-8\" "
                                        "or as XLSX"]) from error
    if not lines:
        raise TranslationFileError([f"{path}: the file is empty"])
    header = [name.strip().lower() for name in lines[0]]
    missing = [name for name in ("language", "domain", "msgid", "form", "translation") if name not in header]
    if missing:
        raise TranslationFileError([f"{path}: row 1 lacks the column(s) {', '.join(missing)} "
                                    f"(the header is {', '.join(COLUMNS)})"])
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue
        rows.append((number, {name: (line[i] if i < len(line) else "") for i, name in enumerate(header)}))
    return rows


@dataclass
class Pending:
    """The translations a file gives one catalog message, by form, and the rows they came from."""

    message: Message
    forms: dict[int, tuple[int, str]]


def import_file(path: Path) -> ImportReport:
    """Read a file written by `export` back into its language's catalogs; refuse it whole (writing nothing) when
    any row is wrong. An empty translation leaves a message as it is."""
    rows = read_rows(path)
    languages = {row["language"].strip() for _, row in rows}
    if len(languages) != 1:
        raise TranslationFileError([f"{path}: one language per file, found {', '.join(sorted(languages)) or 'none'}"])
    lang = languages.pop()
    check_language(lang)
    catalogs: dict[str, Catalog] = {}
    pending: dict[tuple[str, str, str], Pending] = {}
    problems: list[str] = []
    for number, row in rows:
        domain, msgid, form = row["domain"].strip(), row["msgid"], row["form"].strip()
        context = row.get("context", "").strip() or None
        translation = row["translation"]
        where = f"row {number} (msgid {msgid!r})"
        if domain not in i18n.DOMAINS:
            problems.append(f"{where}: {domain!r} is not a domain ({', '.join(i18n.DOMAINS)})")
            continue
        if domain not in catalogs:
            catalogs[domain] = read_catalog(lang, domain)
        catalog = catalogs[domain]
        message = catalog.get(msgid, context)
        if message is None or not message.id:
            problems.append(f"{where}: no such message in {lang}/{domain} (the code changed since the export: "
                            "export the file again)")
            continue
        plural = isinstance(message.id, tuple)
        if plural != (form != ""):
            problems.append(f"{where}: " + (f"has {catalog.num_plurals} plural forms: give the form number"
                                            if plural else "has no plural forms: leave the form empty"))
            continue
        index = 0
        if plural:
            if not form.isdigit() or int(form) >= catalog.num_plurals:
                problems.append(f"{where}: form {form!r} does not exist ({lang} has forms 0 to "
                                f"{catalog.num_plurals - 1})")
                continue
            index = int(form)
        key = (domain, context or "", msgid)
        entry = pending.setdefault(key, Pending(message, {}))
        if index in entry.forms:
            problems.append(f"{where}: given twice (also row {entry.forms[index][0]})")
            continue
        entry.forms[index] = (number, translation)
        if translation.strip():
            english = message.id[0] if plural else message.id
            expected, found = placeholders(str(english)), placeholders(translation)
            if expected != found:
                lost, extra = sorted(expected - found), sorted(found - expected)
                problems.append(f"{where}: placeholders differ from the English: "
                                + "; ".join(part for part in (
                                    f"missing {', '.join(lost)}" if lost else "",
                                    f"not in the English {', '.join(extra)}" if extra else "") if part)
                                + " (copy each %(name)s or {name} exactly as the English has it)")
    for (domain, _context, msgid), entry in pending.items():
        if not isinstance(entry.message.id, tuple):
            continue
        total = catalogs[domain].num_plurals
        given = {index for index, (_, text) in entry.forms.items() if text.strip()}
        if given and len(given) < total:
            empty = [str(index) for index in range(total) if index not in given]
            first = min(number for number, _ in entry.forms.values())
            problems.append(f"row {first} (msgid {msgid!r}): plural form(s) {', '.join(empty)} empty or missing: "
                            f"{lang} needs all {total} forms, or none")
    if problems:
        raise TranslationFileError(problems)
    return write_changes(lang, catalogs, pending)


def write_changes(lang: str, catalogs: dict[str, Catalog], pending: dict[tuple[str, str, str], Pending]) -> ImportReport:
    """Put the checked translations into their catalogs and write the catalogs that changed (each replaced whole)."""
    changed_domains: set[str] = set()
    changed = 0
    for (domain, _context, _msgid), entry in pending.items():
        message = entry.message
        texts = {index: text for index, (_, text) in entry.forms.items() if text.strip()}
        if not texts:
            continue
        new: Any = tuple(texts[index] for index in range(catalogs[domain].num_plurals)) \
            if isinstance(message.id, tuple) else texts[0]
        if new != message.string or message.fuzzy:
            message.string = new
            message.flags.discard("fuzzy")
            changed += 1
            changed_domains.add(domain)
    written: list[tuple[str, Path]] = []
    try:
        for domain in sorted(changed_domains):  # every new catalog is written aside first, then all are swapped in
            out = io.BytesIO()
            write_po(out, catalogs[domain], width=WIDTH)
            handle, temporary = tempfile.mkstemp(dir=catalog_path(lang, domain).parent, prefix=f".{domain}.")
            with os.fdopen(handle, "wb") as file:
                file.write(out.getvalue())
            written.append((temporary, catalog_path(lang, domain)))
    except BaseException:
        for temporary, _ in written:
            os.unlink(temporary)
        raise
    for temporary, target in written:
        os.replace(temporary, target)
    if changed_domains:
        i18n.reload()
    return ImportReport(lang, changed, tuple(str(catalog_path(lang, d)) for d in sorted(changed_domains)))
