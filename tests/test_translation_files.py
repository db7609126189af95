"""`flask translate export` and `import`: a language's catalogs as a CSV or XLSX file for a translator and back,
through Babel's reader and writer; a broken row refuses the whole file with its row number, msgid and reason,
and nothing is written."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from openpyxl import load_workbook

from bot.core import i18n
from bot.core.i18n_check import cached_coverage
from bot.core.translation_files import COLUMNS

PLURAL = ("We received your certificate for %(course)s. It is waiting for review: an officer usually checks within "
          "%(days)s day.")
WELCOME = "Welcome to %(union)s!"


@pytest.fixture
def locales(tmp_path) -> Iterator[Path]:
    """A copy of the catalogs for the test to change; the repo's own are untouched and read again afterwards."""
    copy = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR, copy)
    real = i18n.LOCALES_DIR
    i18n.LOCALES_DIR = copy
    i18n.reload()
    try:
        yield copy
    finally:
        i18n.LOCALES_DIR = real
        i18n.reload()


def fingerprint(folder: Path) -> dict[str, str]:
    """Every catalog file's digest."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.glob("*/LC_MESSAGES/*.po"))}


def run(app, *args: str):
    """One `flask translate …` command."""
    return app.test_cli_runner().invoke(args=["translate", *args])


def export_rows(app, tmp_path: Path, lang: str) -> list[dict[str, str]]:
    """The CSV export of a language, as dicts."""
    out = tmp_path / f"{lang}.csv"
    result = run(app, "export", "--lang", lang, "--out", str(out))
    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """Rows back into a CSV, as a spreadsheet program saves them."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def find(rows: list[dict[str, str]], msgid: str, form: str = "") -> dict[str, str]:
    """The row of one message (or one plural form)."""
    [row] = [row for row in rows if row["msgid"] == msgid and row["form"] == form]
    return row


def test_export_holds_every_message_of_every_domain_with_english_context_and_notes(app, locales, tmp_path):
    rows = export_rows(app, tmp_path, "ar")
    assert {row["domain"] for row in rows} == set(i18n.DOMAINS)
    for domain in i18n.DOMAINS:
        with (locales / "ar" / "LC_MESSAGES" / f"{domain}.po").open("rb") as handle:
            catalog = read_po(handle, locale="ar")
        expected = sum(6 if isinstance(m.id, tuple) else 1 for m in catalog if m.id)
        assert sum(row["domain"] == domain for row in rows) == expected, domain
    welcome = find(rows, WELCOME)
    assert welcome["english"] == WELCOME and welcome["translation"] == i18n.translate("ar", WELCOME)
    assert "used in flows/" in welcome["notes"]
    forms = [find(rows, PLURAL, str(n)) for n in range(6)]
    assert forms[1]["english"] == PLURAL and forms[0]["english"].endswith("%(days)s days.")
    assert forms[0]["notes"].startswith("plural form 1 of 6: used for 0")
    assert forms[3]["notes"].startswith("plural form 4 of 6: used for 3, 4, 5, 6, 7, 8, …")
    assert all(form["translation"] for form in forms)


def test_csv_round_trip_changes_nothing_and_an_edit_lands_in_the_catalog(app, locales, tmp_path):
    before = fingerprint(locales)
    rows = export_rows(app, tmp_path, "so")
    result = run(app, "import", str(write_rows(tmp_path / "same.csv", rows)))
    assert result.exit_code == 0 and "so: 0 message(s) changed" in result.output, result.output
    assert fingerprint(locales) == before
    find(rows, WELCOME)["translation"] = "Soo dhawoow, %(union)s!"
    result = run(app, "import", str(write_rows(tmp_path / "edited.csv", rows)))
    assert result.exit_code == 0 and "so: 1 message(s) changed" in result.output, result.output
    changed = [name for name, digest in fingerprint(locales).items() if before[name] != digest]
    assert changed == ["so/LC_MESSAGES/signup.po"]
    assert i18n.translate("so", WELCOME) == "Soo dhawoow, %(union)s!"
    text = (locales / "so" / "LC_MESSAGES" / "signup.po").read_text(encoding="utf-8")
    assert "awaits review by a speaker" in text  # the header and its translator's note are kept


def test_xlsx_round_trip_with_every_plural_form(app, locales, tmp_path):
    out = tmp_path / "ar.xlsx"
    result = run(app, "export", "--lang", "ar", "--out", str(out))
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out)
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    assert tuple(header) == COLUMNS
    column = {name: header.index(name) for name in header}
    new_forms = [f"شكل {n} %(course)s %(days)s" for n in range(6)]
    for line in sheet.iter_rows(min_row=2):
        if line[column["msgid"]].value == PLURAL:
            line[column["translation"]].value = new_forms[int(line[column["form"]].value)]
    workbook.save(out)
    result = run(app, "import", str(out))
    assert result.exit_code == 0 and "ar: 1 message(s) changed" in result.output, result.output
    assert [i18n.translate_plural("ar", PLURAL, "", n) for n in (0, 1, 2, 3, 11, 100)] == new_forms


def test_a_translation_starting_with_an_equals_sign_stays_text_in_the_xlsx(app, locales, tmp_path):
    rows = export_rows(app, tmp_path, "fr")
    find(rows, WELCOME)["translation"] = "=Bienvenue à %(union)s !"
    assert run(app, "import", str(write_rows(tmp_path / "fr.csv", rows))).exit_code == 0
    out = tmp_path / "fr.xlsx"
    assert run(app, "export", "--lang", "fr", "--format", "xlsx", "--out", str(out)).exit_code == 0
    cells = [line for line in load_workbook(out).active.iter_rows(min_row=2) if line[2].value == WELCOME]
    assert cells[0][5].value == "=Bienvenue à %(union)s !" and cells[0][5].data_type == "s"


def broken(rows: list[dict[str, str]], case: str) -> tuple[list[dict[str, str]], str]:
    """The export with one fault, and the words the refusal must say."""
    welcome = find(rows, WELCOME)
    row_of = {id(row): number for number, row in enumerate(rows, start=2)}
    if case == "placeholder missing":
        welcome["translation"] = "Ku soo dhawoow!"
        return rows, f"row {row_of[id(welcome)]} (msgid {WELCOME!r}): placeholders differ from the English: " \
                     "missing %(union)s"
    if case == "placeholder added":
        welcome["translation"] = "Ku soo dhawoow %(union)s, {name}!"
        return rows, f"row {row_of[id(welcome)]} (msgid {WELCOME!r}): placeholders differ from the English: " \
                     "not in the English {name}"
    if case == "plural form emptied":
        form = find(rows, PLURAL, "1")
        form["translation"] = ""
        return rows, f"(msgid {PLURAL!r}): plural form(s) 1 empty or missing: so needs all 2 forms, or none"
    if case == "plural form missing":
        form = find(rows, PLURAL, "0")
        rows.remove(form)
        find(rows, PLURAL, "1")["translation"] += " "
        return rows, "plural form(s) 0 empty or missing"
    if case == "unknown message":
        welcome["msgid"] = "Welcome to the union, %(name)s!"
        return rows, f"row {row_of[id(welcome)]} (msgid 'Welcome to the union, %(name)s!'): no such message in " \
                     "so/signup"
    if case == "given twice":
        rows.append(dict(welcome))
        return rows, f"row {len(rows) + 1} (msgid {WELCOME!r}): given twice (also row {row_of[id(welcome)]})"
    if case == "form on a singular":
        welcome["form"] = "1"
        return rows, f"row {row_of[id(welcome)]} (msgid {WELCOME!r}): has no plural forms: leave the form empty"
    if case == "form out of range":
        form = find(rows, PLURAL, "1")
        form["form"] = "5"
        return rows, f"(msgid {PLURAL!r}): form '5' does not exist (so has forms 0 to 1)"
    if case == "unknown domain":
        welcome["domain"] = "greetings"
        return rows, f"row {row_of[id(welcome)]} (msgid {WELCOME!r}): 'greetings' is not a domain"
    if case == "two languages":
        welcome["language"] = "fr"
        return rows, "one language per file, found fr, so"
    raise AssertionError(case)


CASES = ["placeholder missing", "placeholder added", "plural form emptied", "plural form missing", "unknown message",
         "given twice", "form on a singular", "form out of range", "unknown domain", "two languages"]


@pytest.mark.parametrize("case", CASES)
def test_a_broken_row_refuses_the_whole_file_and_writes_nothing(app, locales, tmp_path, case):
    rows = export_rows(app, tmp_path, "so")
    find(rows, "not given")["translation"] = "lama sheegin"  # a good change in the same file is not written either
    rows, reason = broken(rows, case)
    before = fingerprint(locales)
    result = run(app, "import", str(write_rows(tmp_path / "broken.csv", rows)))
    assert result.exit_code == 1
    assert "not imported, nothing was written" in result.output and reason in result.output, result.output
    assert fingerprint(locales) == before
    assert i18n.translate("so", "not given") == "lama bixin"


def test_a_language_that_is_not_configured_or_is_english_is_refused(app, locales, tmp_path):
    for lang, reason in (("xx", "'xx' is not one of the configured languages"),
                         ("en", "'en' is the language of the messages themselves")):
        result = run(app, "export", "--lang", lang, "--out", str(tmp_path / "x.csv"))
        assert result.exit_code == 1 and reason in result.output, result.output
    rows = export_rows(app, tmp_path, "so")
    for row in rows:
        row["language"] = "xx"
    result = run(app, "import", str(write_rows(tmp_path / "xx.csv", rows)))
    assert result.exit_code == 1 and "'xx' is not one of the configured languages" in result.output


def test_a_csv_saved_in_another_encoding_is_refused_with_what_to_do(app, locales, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(",".join(COLUMNS).encode() + "\nfr,core,not given,,not given,donné,,\n".encode("latin-1"))
    result = run(app, "import", str(path))
    assert result.exit_code == 1 and 'not UTF-8 text (byte 94): save it as "CSV UTF-8" or as XLSX' in result.output


def test_a_file_without_the_columns_is_refused(app, locales, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("msgid,translation\nnot given,lama sheegin\n", encoding="utf-8")
    result = run(app, "import", str(path))
    assert result.exit_code == 1 and "row 1 lacks the column(s) language, domain, form" in result.output


def test_bytes_of_the_csv_open_in_a_spreadsheet_as_utf8(app, locales, tmp_path):
    out = tmp_path / "ar.csv"
    assert run(app, "export", "--lang", "ar", "--out", str(out)).exit_code == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # a byte order mark: Excel reads Arabic right
    assert next(csv.reader(io.StringIO(data.decode("utf-8-sig")))) == list(COLUMNS)


def test_the_cached_coverage_is_computed_again_only_when_a_catalog_changes(locales):
    first = cached_coverage()
    again = cached_coverage()
    assert all(a is b for a, b in zip(first, again, strict=True))  # the same rows: nothing was read again
    path = locales / "so" / "LC_MESSAGES" / "stats.po"
    path.write_text(path.read_text(encoding="utf-8").replace('msgstr "Luqad ahaan: %(list)s"', 'msgstr ""'),
                    encoding="utf-8")
    [somali_stats] = [row for row in cached_coverage() if (row.lang, row.domain) == ("so", "stats")]
    [before] = [row for row in first if (row.lang, row.domain) == ("so", "stats")]
    assert somali_stats.translated == before.translated - 1
