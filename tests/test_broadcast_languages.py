"""Broadcasts in every configured language: the migration that keeps the texts by language, the text and the
template each member gets, what each delivery records, the preview by language, the CLI and the dashboard."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Broadcast

OLD_ROWS = [
    # id, text_en, text_sw
    (1, "Meeting on Saturday", "Mkutano Jumamosi"),
    (2, "Dues are due", None),
    (3, "Vote on Friday", ""),
]


def seed_old_broadcasts(connection: sa.Connection) -> None:
    """Broadcasts and a delivery as revision 0018 kept them (a text column per language)."""
    connection.execute(sa.text("INSERT INTO members (id, phone, status, language, created_at, updated_at) "
                               "VALUES (901, '+254700000901', 'active', 'sw', '2026-11-30', '2026-11-30')"))
    for broadcast_id, english, swahili in OLD_ROWS:
        connection.execute(sa.text("INSERT INTO broadcasts (id, text_en, text_sw, segment, status, created_at) "
                                   "VALUES (:id, :en, :sw, '{}', 'done', '2026-11-30')"),
                           {"id": broadcast_id, "en": english, "sw": swahili})
    connection.execute(sa.text("INSERT INTO broadcast_deliveries (broadcast_id, member_id, status, status_rank, "
                               "kind, attempts, lookups) VALUES (1, 901, 'read', 5, 'text', 1, 0)"))


def old_texts(connection: sa.Connection) -> list[tuple[int, str, str | None]]:
    return [tuple(row) for row in connection.execute(
        sa.text("SELECT id, text_en, text_sw FROM broadcasts ORDER BY id"))]


def check_upgrade_keeps_every_text(app_to_migrate) -> None:
    from flask_migrate import downgrade, upgrade

    with app_to_migrate.app_context():
        downgrade(revision="0018")
        try:
            with db.engine.begin() as connection:
                seed_old_broadcasts(connection)
        finally:
            db.session.remove()
            upgrade()
        kept = db.session.execute(sa.select(Broadcast.id, Broadcast.texts).order_by(Broadcast.id)).all()
        assert kept == [(1, {"en": "Meeting on Saturday", "sw": "Mkutano Jumamosi"}),
                        (2, {"en": "Dues are due"}), (3, {"en": "Vote on Friday"})]
        delivery = db.session.execute(sa.text("SELECT status, kind, language, template_language "
                                              "FROM broadcast_deliveries")).one()
        assert tuple(delivery) == ("read", "text", None, None)  # what was sent before is not guessed
        db.session.remove()
        # And back: the English and Swahili texts return to their columns.
        downgrade(revision="0018")
        try:
            with db.engine.connect() as connection:
                assert old_texts(connection) == [(1, "Meeting on Saturday", "Mkutano Jumamosi"),
                                                 (2, "Dues are due", None), (3, "Vote on Friday", None)]
        finally:
            upgrade()
        db.session.remove()


def test_the_upgrade_moves_the_texts_into_one_mapping_without_losing_any(app):
    check_upgrade_keeps_every_text(app)


def test_the_upgrade_on_sqlite_too(tmp_path):
    from flask_migrate import upgrade

    from bot import create_app
    from tests.helpers.app import app_config

    older = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'older.db'}"))
    with older.app_context():
        upgrade()
    try:
        check_upgrade_keeps_every_text(older)
    finally:
        with older.app_context():
            db.engine.dispose()


def test_a_broadcast_needs_its_english_text_and_configured_languages(app):
    from bot.broadcasts import service as broadcasts

    with app.app_context():
        with pytest.raises(ValueError, match="English"):
            broadcasts.create({"sw": "Mkutano Jumamosi"})
        with pytest.raises(ValueError, match="LANGUAGES"):
            broadcasts.create({"en": "Hello", "de": "Hallo"})
        created = broadcasts.create({"ar": " اجتماع يوم السبت ", "en": "Meeting", "so": "", "fr": "Réunion"})
        assert created.texts == {"en": "Meeting", "fr": "Réunion", "ar": "اجتماع يوم السبت"}



def test_the_cli_takes_a_text_per_language(app):
    runner = app.test_cli_runner()
    made = runner.invoke(args=["broadcast", "create", "--text", "en=Meeting on Saturday", "--text",
                               "SO=Shir Sabti", "--sw", "Mkutano Jumamosi"])
    assert made.exit_code == 0, made.output
    assert "broadcast 1 created (draft)" in made.output
    with app.app_context():
        assert db.session.get(Broadcast, 1).texts == {"en": "Meeting on Saturday", "sw": "Mkutano Jumamosi",
                                                      "so": "Shir Sabti"}
    for args, says in ((["--text", "sw=Mkutano"], "English text is required"),
                       (["--en", "Hi", "--text", "de=Hallo"], "de: not one of LANGUAGES"),
                       (["--en", "Hi", "--text", "Shir Sabti"], "use LANG=TEXT"),
                       (["--en", "Hi", "--text", "en=Again"], "en: given twice")):
        refused = runner.invoke(args=["broadcast", "create", *args])
        assert refused.exit_code != 0 and says in refused.output, refused.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 1


def test_the_composer_has_a_box_per_language_and_the_pages_show_every_text(app, client):
    from tests.helpers.dashboard import csrf_token, make_user, sign_in

    assert sign_in(client, make_user(app, "organiser")).status_code == 302
    page = client.get("/admin/broadcasts/new").get_data(as_text=True)
    for label in ("Text in English (also for members without a text in their language)", "Text in Swahili (optional)",
                  "Text in French (optional)", "Text in Somali (optional)", "Text in Arabic (optional)"):
        assert label in page
    token = csrf_token(page)
    assert client.post("/admin/broadcasts/new", data={"csrf_token": token, "text_fr": "Réunion"}).status_code == 400
    sent = client.post("/admin/broadcasts/new", data={"csrf_token": token, "text_en": "Meeting",
                                                      "text_fr": "Réunion samedi", "text_ar": "اجتماع يوم السبت"})
    assert sent.status_code == 302
    preview = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert re.search(r"<b>French</b><span[^>]*>Réunion samedi</span>", preview)
    assert re.search(r"<b>Arabic</b><span[^>]*dir=\"auto\"[^>]*>اجتماع يوم السبت</span>", preview)
    assert re.search(r"<b>Somali</b><span[^>]*>— \(the English text\)</span>", preview)
    with app.app_context():
        draft = db.session.scalars(sa.select(Broadcast)).one()
        assert draft.texts == {"en": "Meeting", "fr": "Réunion samedi", "ar": "اجتماع يوم السبت"}
    progress = client.get(f"/admin/broadcasts/{draft.id}").get_data(as_text=True)
    assert "Réunion samedi" in progress and "اجتماع يوم السبت" in progress
    changed = client.get(f"/admin/broadcasts/new?from={draft.id}").get_data(as_text=True)
    assert "Réunion samedi</textarea>" in changed


TEXTS = {"en": "Meeting on Saturday", "sw": "Mkutano Jumamosi", "so": "Shir Sabti"}
# phone number ending → (language, inside the 24-hour window)
AUDIENCE = {1: ("en", True), 2: ("sw", True), 3: ("so", True), 4: ("fr", True), 5: ("sw", False), 6: ("so", False),
            7: ("ar", False)}


def add_audience(app) -> dict[int, int]:
    """The members of AUDIENCE; returns member id by number ending."""
    from tests.helpers.broadcasts import OLD, RECENT, add_members

    with app.app_context():
        return {n: add_members(1, start=n, language=lang, last_inbound=RECENT if inside else OLD)[0]
                for n, (lang, inside) in AUDIENCE.items()}


def send_to_audience(app, drain, texts=TEXTS) -> int:
    from bot.broadcasts import service as broadcasts

    with app.app_context():
        broadcast_id = broadcasts.create(texts).id
        assert broadcasts.send(broadcast_id) == "running"
    drain()
    return broadcast_id


def test_each_member_gets_their_language_else_english_and_the_delivery_records_what_went(app, pipeline, drain):
    from bot.models import BroadcastDelivery

    app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"en": "HXen", "sw": "HXsw", "so": "HXso"}}
    ids = add_audience(app)
    send_to_audience(app, drain)
    sent = {m["to"][-1:]: m for m in pipeline.messages}
    assert {n: sent[str(n)]["body"] for n in (1, 2, 3, 4)} == {
        1: "Meeting on Saturday", 2: "Mkutano Jumamosi", 3: "Shir Sabti", 4: "Meeting on Saturday"}
    assert [(sent[str(n)]["content_sid"], "Mkutano" in sent[str(n)]["content_variables"]) for n in (5, 7)] == [
        ("HXsw", True), ("HXen", False)]
    assert sent["6"]["content_sid"] == "HXso" and "Shir Sabti" in sent["6"]["content_variables"]
    with app.app_context():
        rows = {d.member_id: (d.kind, d.language, d.template_language)
                for d in db.session.scalars(sa.select(BroadcastDelivery))}
    assert [rows[ids[n]] for n in sorted(ids)] == [
        ("text", "en", None), ("text", "sw", None), ("text", "so", None), ("text", "en", None),
        ("template", "sw", "sw"), ("template", "so", "so"), ("template", "en", "en")]


def test_the_timeline_shows_the_text_in_the_language_it_went_in(app, pipeline, drain):
    from bot.dashboard import timeline
    from bot.models import Member

    app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"en": "HXen"}}
    ids = add_audience(app)
    send_to_audience(app, drain)
    with app.app_context():
        swahili = db.session.get(Member, ids[2])
        swahili.language = "en"  # they changed language since: the entry still shows what they were sent
        db.session.commit()
        [entry] = timeline.broadcast_entries(swahili)
        assert entry.texts == ["Mkutano Jumamosi"] and "as text, in Swahili" in entry.title
        [entry] = timeline.broadcast_entries(db.session.get(Member, ids[4]))
        assert entry.texts == ["Meeting on Saturday"] and "in English" in entry.title
        [entry] = timeline.broadcast_entries(db.session.get(Member, ids[6]))
        assert entry.texts == ["Shir Sabti"] and "the English template (none in theirs)" in entry.title


@pytest.fixture
def somali_outside(app):
    """Templates in English and Swahili only (Meta has no Somali); members: one English inside the window, one
    Swahili and two Somali outside it, one Somali who opted out."""
    from tests.helpers.broadcasts import OLD, add_members

    saved = app.config["WHATSAPP_TEMPLATES"], app.config["TEMPLATE_FALLBACK"]
    app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"en": "HXen", "sw": "HXsw"}}
    with app.app_context():
        add_members(1, start=1)
        add_members(1, start=2, language="sw", last_inbound=OLD)
        add_members(2, start=3, language="so", last_inbound=OLD)
        add_members(1, start=5, language="so", opted_out=True)
    yield
    app.config["WHATSAPP_TEMPLATES"], app.config["TEMPLATE_FALLBACK"] = saved


def test_the_preview_counts_each_language_and_who_gets_the_fallback_template(app, somali_outside):
    from bot.broadcasts import service as broadcasts
    from bot.broadcasts.cli import describe_preview

    with app.app_context():
        draft = broadcasts.create(TEXTS)
        p = broadcasts.preview(draft)
        assert (p.matched, p.opted_out, p.inside_window, p.template, p.fallback, p.no_template) == (5, 1, 1, 3, 2, 0)
        assert p.languages == {"en": broadcasts.LanguageCounts(text=1), "sw": broadcasts.LanguageCounts(template=1),
                               "so": broadcasts.LanguageCounts(fallback=2)}
        assert broadcasts.preview_notes(p) == [("fallback", "so", 2)]
        assert describe_preview(p).splitlines()[1] == (
            "2 Somali speakers outside the window get the English template (none in Somali).")
        app.config["TEMPLATE_FALLBACK"] = ""  # no fallback: Somali speakers outside the window get nothing
        p = broadcasts.preview(draft)
        assert (p.template, p.fallback, p.no_template) == (1, 0, 2)
        assert describe_preview(p).splitlines()[1] == (
            "2 Somali speakers outside the window have no template: they get nothing.")


@pytest.mark.parametrize("fallback", ["en", ""])
def test_somali_speakers_outside_the_window_get_the_fallback_template_or_nothing(app, pipeline, drain,
                                                                                somali_outside, fallback):
    from bot.models import BroadcastDelivery, Member

    app.config["TEMPLATE_FALLBACK"] = fallback
    send_to_audience(app, drain)
    sent = {m["to"][-1:]: m for m in pipeline.messages}
    with app.app_context():
        rows = {phone[-1:]: (d.status, d.kind, d.language, d.template_language, d.reason)
                for d, phone in db.session.execute(sa.select(BroadcastDelivery, Member.phone)
                                                   .join(Member, Member.id == BroadcastDelivery.member_id))}
    assert sent["2"]["content_sid"] == "HXsw" and rows["2"][1:4] == ("template", "sw", "sw")
    if fallback:
        assert [sent[n]["content_sid"] for n in "34"] == ["HXen", "HXen"]
        assert all("Shir Sabti" in sent[n]["content_variables"] for n in "34")  # their text, in the English template
        assert rows["3"][1:4] == rows["4"][1:4] == ("template", "so", "en")
    else:
        assert "3" not in sent and "4" not in sent
        assert rows["3"][0] == rows["4"][0] == "skipped" and rows["3"][4] == "no_template"


def test_the_dashboard_preview_shows_each_language_and_the_note(app, client, somali_outside):
    from tests.helpers.dashboard import csrf_token, make_user, sign_in

    assert sign_in(client, make_user(app, "organiser")).status_code == 302
    token = csrf_token(client.get("/admin/broadcasts/new").get_data(as_text=True))
    sent = client.post("/admin/broadcasts/new", data={"csrf_token": token, "text_en": "Meeting"})
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "2 Somali speakers outside the window get the English template (none in Somali)." in page
    assert re.search(r'<tr data-language="so"><td>Somali</td><td>2</td><td>0</td><td>0</td><td>2</td><td>0</td>'
                     r"<td>no: they get English</td></tr>", page)
    assert re.search(r'<tr data-language="en"><td>English</td><td>1</td><td>1</td>.*<td>yes</td></tr>', page)
    counted = client.get("/admin/broadcasts/count").get_json()
    assert counted["notes"] == ["2 Somali speakers outside the window get the English template (none in Somali)."]
    assert (counted["template"], counted["fallback"], counted["nothing"]) == (3, 2, 0)


def test_the_whatsapp_preview_names_the_languages_left_with_the_fallback_or_nothing(app, client, somali_outside):
    from tests.helpers.app import WhatsApp

    app.test_cli_runner().invoke(args=["staff", "add", "+254733000001", "--role", "organiser"])
    organiser = WhatsApp(client, "+254733000001")
    for line in ("BROADCAST", "Meeting on Saturday", "SKIP"):
        organiser.send(line)
    reply = organiser.says("ALL")
    assert ("By language: 2 Somali speakers outside the window get the English template (there is none in "
            "Somali).") in reply
    app.config["TEMPLATE_FALLBACK"] = ""
    for line in ("BROADCAST", "Meeting on Saturday", "SKIP"):
        organiser.send(line)
    assert ("By language: 2 Somali speakers outside the window have no template: they get nothing, which template "
            f"each language has: {app.config['PUBLIC_URL']}/admin/templates.") in organiser.says("ALL")
    app.config["WHATSAPP_TEMPLATES"] = {"broadcast": {"en": "HXen", "sw": "HXsw", "so": "HXso"}}
    organiser.send("kiswahili")
    for line in ("BROADCAST", "Meeting on Saturday", "RUKA"):
        organiser.send(line)
    assert "Kwa lugha: kila aliye nje ya saa 24 ana kiolezo cha lugha yake." in organiser.says("WOTE")


@pytest.mark.parametrize("fallback", ["de", "xx"])
def test_a_template_fallback_outside_languages_stops_the_start(monkeypatch, tmp_path, fallback):
    from bot.core.config import load_settings

    monkeypatch.delenv("LANGUAGES", raising=False)
    monkeypatch.setenv("TEMPLATE_FALLBACK", fallback)
    with pytest.raises(ValueError, match="TEMPLATE_FALLBACK"):
        load_settings(tmp_path)
    monkeypatch.setenv("TEMPLATE_FALLBACK", "None")
    assert load_settings(tmp_path)["TEMPLATE_FALLBACK"] == ""
    monkeypatch.delenv("TEMPLATE_FALLBACK")
    assert load_settings(tmp_path)["TEMPLATE_FALLBACK"] == "en"
