"""What the webhooks refuse before any work: oversized or many-field bodies, parameters not of Twilio's shape
(text moved between a value and the next name keeps Twilio's signature valid), senders on other channels or
not in E.164; and inbound fields too long for their columns, cut or refused, never a 500."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from urllib.parse import urlencode

import pytest
import requests
import sqlalchemy as sa
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from bot.core.extensions import db
from bot.devtools.fake_twilio import new_sid
from bot.members.staff_numbers import add_staff
from bot.models import Member, Message
from bot.whatsapp.twilio_api import sign
from tests.helpers.app import AUTH_TOKEN, PUBLIC_URL, WhatsApp, apply_statuses
from tests.helpers.review import signed_in
from tests.helpers.signup import play

MAX_BODY_BYTES, MAX_FIELDS = 64 * 1024, 200  # the limits the README promises


def count(app, model, *where) -> int:
    """Rows of a model matching the conditions."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def message_of(app, sid: str) -> Message:
    """The stored message with this SID."""
    with app.app_context():
        message = db.session.scalars(sa.select(Message).where(Message.twilio_sid == sid)).one()
        db.session.expunge(message)
        return message


# --- size and field limits ----------------------------------------------------------------------------

def post_signed(base: str, form: dict[str, str]) -> tuple[int, float]:
    """Post a correctly signed inbound message to the live server: its HTTP status and how long it took."""
    url = base + "/whatsapp/inbound"
    started = time.perf_counter()
    response = requests.post(url, data=form, headers={"X-Twilio-Signature": sign(url, form, AUTH_TOKEN)}, timeout=60)
    return response.status_code, time.perf_counter() - started


def post_raw(base: str, body: bytes | object) -> tuple[int | None, float]:
    """Post a raw body (bytes, or an iterator for a chunked body) with a made-up signature: the HTTP status
    (None when the server answered and closed the connection before the client could read it, as it may
    while the client is still sending a body it refused) and how long it took."""
    started = time.perf_counter()
    try:
        status = requests.post(base + "/whatsapp/inbound", data=body, timeout=60, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"}).status_code
    except requests.ConnectionError:
        status = None
    return status, time.perf_counter() - started


def test_a_large_many_key_body_is_refused_at_once_while_a_signed_message_is_answered_in_normal_time(app, live_server):
    """Over real HTTP: four 8.9 MB bodies of a million keys each are refused (413) before parsing, and a
    member's message sent meanwhile takes about as long as one sent on a quiet server. Times are compared
    with the quiet server's, loosely: before the limits each such body took seconds of CPU."""
    million_keys = b"&".join(b"k%d=" % n for n in range(1_000_000))
    contact = WhatsApp(None, "+254712345678")
    post_signed(live_server, contact.form("Hi"))  # the first message of a contact does the most work: not timed
    quiet = statistics.median(post_signed(live_server, contact.form("1"))[1] for _ in range(3))
    with ThreadPoolExecutor(5) as pool:
        attacks = [pool.submit(post_raw, live_server, million_keys) for _ in range(4)]
        time.sleep(0.05)
        answered = pool.submit(post_signed, live_server, contact.form("1"))
        refused = [attack.result() for attack in attacks]
        code, took = answered.result()
    assert code == 200
    statuses = [status for status, _ in refused]
    assert set(statuses) <= {413, None} and 413 in statuses, statuses
    allowed = 10 * quiet + 1.0
    assert max(seconds for _, seconds in refused) < allowed, (refused, quiet)
    assert took < allowed, (took, quiet)


def test_a_chunked_body_over_the_limit_is_refused(app, live_server):
    """No Content-Length (chunked): werkzeug cuts the body at the limit without an error; it is refused."""
    chunks = iter([b"Body=" + b"a" * 16_384] + [b"a" * 16_384] * 30)
    assert post_raw(live_server, chunks)[0] == 413


def test_too_many_fields_are_refused_before_the_signature_is_checked(app, whatsapp):
    many = whatsapp.form("Hi", **{f"k{n}": "" for n in range(MAX_FIELDS)})
    assert len(many) > MAX_FIELDS
    assert whatsapp.post(many).status_code == 400  # correctly signed, still too many
    small_keys = b"&".join(b"k%d=" % n for n in range(8_000))  # 60 kB: under the size limit
    response = whatsapp.client.post("/whatsapp/inbound", data=small_keys, base_url=PUBLIC_URL, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert response.status_code == 400
    assert count(app, Message) == 0


def test_a_message_with_exactly_the_most_fields_allowed_is_answered(app, whatsapp):
    form = whatsapp.form("Hi")
    form.update({f"Extra{n}": "1" for n in range(MAX_FIELDS - len(form))})
    assert len(form) == MAX_FIELDS
    assert whatsapp.post(form).status_code == 200


@pytest.mark.parametrize(("text", "encoded"), [("مرحبا بكم في النقابة " * 80, 10_000),
                                               ("\U0001f64f\U0001f3fe\U0001f600\u2764\ufe0f" * 400, 19_000)])
def test_a_full_length_arabic_or_emoji_message_with_ten_media_is_accepted(app, whatsapp, text, encoded):
    body = text[:1600]
    media = {"NumMedia": "10"}
    for n in range(10):
        media[f"MediaUrl{n}"] = (f"https://api.twilio.com/2010-04-01/Accounts/AC{'1' * 32}/Messages/"
                                 f"{new_sid('MM')}/Media/{new_sid('ME')}")
        media[f"MediaContentType{n}"] = "image/jpeg"
    form = whatsapp.form(body, **media)
    assert len(body) == 1600 and len(urlencode(form)) > encoded
    assert whatsapp.post(form).status_code == 200
    stored = message_of(app, form["MessageSid"])
    assert stored.body == body and len(stored.media) == 10


def test_the_dashboard_upload_keeps_its_own_larger_limit(app, client):
    """The webhooks' 64 KiB cap is theirs alone: an admin still uploads a 75 kB voucher CSV."""
    _, token = signed_in(app, client, "admin")
    csv_text = b"code,expires_on\n" + b"".join(b"LIP-CODE-%06d,2027-06-30\n" % n for n in range(3_000))
    assert len(csv_text) > MAX_BODY_BYTES
    response = client.post("/admin/vouchers/upload", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (BytesIO(csv_text), "codes.csv")})
    assert response.status_code == 302
    assert "3000 codes added" in client.get("/admin/vouchers").get_data(as_text=True)


# --- parameter shapes --------------------------------------------------------------------------------

def test_a_replay_with_text_moved_between_message_sid_and_the_next_name_is_refused(app, whatsapp):
    """`MessageSid=<sid>` + `MessageType=text` is signed exactly as `MessageSid=<sid>MessageTypetext`."""
    form = whatsapp.form("Hi", MessageType="text")
    signature = sign(PUBLIC_URL + "/whatsapp/inbound", form, AUTH_TOKEN)
    assert whatsapp.post(form, signature=signature).status_code == 200
    replay = {key: value for key, value in form.items() if key != "MessageType"}
    replay["MessageSid"] += "MessageTypetext"
    assert sign(PUBLIC_URL + "/whatsapp/inbound", replay, AUTH_TOKEN) == signature
    assert whatsapp.post(replay, signature=signature).status_code == 400
    assert count(app, Message, Message.direction == "in") == 1


SID = "SM" + "0123456789abcdef" * 2


@pytest.mark.parametrize("fields", [
    {"MessageSid": "SM1"},
    {"MessageSid": "SM" + SID[2:].upper()},
    {"MessageSid": "sm" + SID[2:]},
    {"MessageSid": SID + "0"},
    {"MessageSid": SID + "\n"},
    {"MessageSid": "AC" + SID[2:]},
    {"MessageSid": "", "SmsMessageSid": SID},
    {"SmsMessageSid": "SM" + "f" * 32},
    {"SmsSid": "MM" + SID[2:]},
], ids=["short", "upper hex", "lower prefix", "too long", "newline", "account prefix", "only the old name",
        "SmsMessageSid differs", "SmsSid differs"])
def test_inbound_message_sids_not_of_twilios_shape_are_refused(app, whatsapp, fields):
    form = {**whatsapp.form("Hi", SmsMessageSid=SID, SmsSid=SID), "MessageSid": SID, **fields}
    assert whatsapp.post(form).status_code == 400
    assert count(app, Message) == 0 and count(app, Member) == 0


@pytest.mark.parametrize("name", ["MessageSid", "From"])
def test_a_message_sid_or_sender_sent_twice_is_refused(app, whatsapp, name):
    form = whatsapp.form("Hi")
    second = {"MessageSid": new_sid("SM"), "From": "whatsapp:+254722000001"}[name]
    fields = MultiDict([*form.items(), (name, second)])
    url = PUBLIC_URL + "/whatsapp/inbound"
    response = whatsapp.client.post("/whatsapp/inbound", data=urlencode(list(fields.items(multi=True))),
                                    base_url=PUBLIC_URL, headers={
                                        "Content-Type": "application/x-www-form-urlencoded",
                                        "X-Twilio-Signature": RequestValidator(AUTH_TOKEN).compute_signature(url, fields)})
    assert response.status_code == 400
    assert count(app, Message) == 0


@pytest.fixture
def sent(app) -> str:
    """An outbound message we sent, as Twilio reported it sent."""
    with app.app_context():
        db.session.add(Message(direction="out", channel="rest", twilio_sid=SID, status="sent", status_rank=3))
        db.session.commit()
    return SID


@pytest.mark.parametrize(("fields", "query"), [
    ({"MessageStatus": "READ"}, ""),
    ({"MessageStatus": "read "}, ""),
    ({"MessageStatus": "readSmsSid" + SID}, ""),
    ({"MessageStatus": "bogus"}, ""),
    ({"MessageStatus": "failed", "ErrorCode": "63016x"}, ""),
    ({"MessageStatus": "failed", "ErrorCode": "６３０１６"}, ""),
    ({"MessageStatus": "read", "SmsSid": "SM" + "f" * 32}, ""),
    ({"MessageStatus": "read", "MessageSid": SID + "MessageStatusread"}, ""),
    ({"MessageStatus": "read"}, "?d=²"),
    ({"MessageStatus": "read"}, "?d=" + "9" * 20),
    ({"MessageStatus": "read"}, "?d=" + str(2**63)),
    ({"MessageStatus": "read"}, "?d=-1"),
    ({"MessageStatus": "read"}, "?d=%D9%A3"),
    ({"MessageStatus": "read"}, "?d="),
], ids=["upper", "space", "moved name", "unknown", "error code letters", "error code wide digits", "SmsSid differs",
        "sid with text", "superscript d", "20-digit d", "d over bigint", "negative d", "arabic digit d", "empty d"])
def test_status_callbacks_not_of_twilios_shape_are_refused_and_change_nothing(app, whatsapp, sent, fields, query):
    form = {"AccountSid": "AC" + "1" * 32, "MessageSid": sent, "SmsSid": sent, **fields}
    assert whatsapp.post(form, path="/whatsapp/status" + query).status_code == 400
    assert apply_statuses(app) == 0
    assert message_of(app, sent).status == "sent"


def test_a_status_callback_of_twilios_shape_is_applied(app, whatsapp, sent):
    form = {"AccountSid": "AC" + "1" * 32, "MessageSid": sent, "SmsSid": sent, "MessageStatus": "read",
            "SmsStatus": "read"}
    assert whatsapp.post(form, path="/whatsapp/status").status_code == 200
    apply_statuses(app)
    assert message_of(app, sent).status == "read"


def test_a_status_callback_for_an_inbound_message_changes_nothing(app, whatsapp):
    form = whatsapp.form("Hi")
    whatsapp.post(form)
    status = {"MessageSid": form["MessageSid"], "MessageStatus": "read"}
    assert whatsapp.post(status, path="/whatsapp/status").status_code == 200
    apply_statuses(app)
    assert message_of(app, form["MessageSid"]).status == "processed"


# --- senders -----------------------------------------------------------------------------------------

STAFF_PHONE = "+254712345678"
FLOWERS = "+18003569377"  # 1 800 FLOWERS on a keypad


@pytest.mark.parametrize("sender", [
    f"sms:{STAFF_PHONE}", STAFF_PHONE, f"rcs:{STAFF_PHONE}", "whatsapp:+1 800 FLOWERS", "whatsapp:+1800FLOWERS",
    f"whatsapp:{STAFF_PHONE};ext=1", f"whatsapp:{STAFF_PHONE} ", f"whatsapp: {STAFF_PHONE}", "whatsapp:+254 712 345 678",
    "whatsapp:0712345678", "whatsapp:+2540712345678", f"WhatsApp:{STAFF_PHONE}", f"whatsapp:{STAFF_PHONE}\x00",
    "whatsapp:+254712345678\n", "whatsapp:+٢٥٤٧١٢٣٤٥٦٧٨", "whatsapp:+254712345678x",
])
def test_senders_other_than_whatsapp_in_e164_are_refused_and_never_staff(app, whatsapp, sender):
    with app.app_context():
        add_staff(STAFF_PHONE, ["admin"], "Wanjiru")
        add_staff(FLOWERS, ["admin"], "Maua")
    form = {**whatsapp.form("STATS"), "From": sender}
    assert whatsapp.post(form).status_code == 400
    assert count(app, Member) == 0 and count(app, Message) == 0


def test_a_staff_number_in_whatsapp_e164_keeps_its_staff_rights(app, whatsapp):
    with app.app_context():
        add_staff(STAFF_PHONE, ["admin"], "Wanjiru")
    assert "Union statistics" in whatsapp.says("STATS")


# --- fields and their columns ------------------------------------------------------------------------

LONG_MEDIA = {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/" + "m" * 600, "MediaContentType0": "image/png"}


@pytest.mark.parametrize(("fields", "answer"), [
    ({"WaId": "2547" + "1" * 30}, 200),
    ({"ProfileName": "Amina " * 200}, 200),
    ({"Body": "x" * 20_000}, 200),
    ({"To": "whatsapp:+" + "1" * 500}, 200),
    ({"ButtonText": "y" * 5_000, "ButtonPayload": "z" * 5_000}, 200),
    ({"Latitude": "nan", "Longitude": "1e999"}, 200),
    ({"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/ME1", "MediaContentType0": "image/" + "p" * 300}, 200),
    ({"NumMedia": "²", "MediaUrl0": "https://api.twilio.com/" + "m" * 600}, 200),
    (LONG_MEDIA, 400),
], ids=["WaId", "ProfileName", "Body", "To", "button", "location", "content type", "odd NumMedia", "media URL"])
def test_inbound_fields_too_long_for_their_columns_are_cut_or_refused_never_a_crash(app, whatsapp, fields, answer):
    form = whatsapp.form("", **fields) if "Body" in fields else whatsapp.form("Hi", **fields)
    assert whatsapp.post(form).status_code == answer
    if answer == 200:
        with app.app_context():
            stored = db.session.scalars(sa.select(Member)).one()
            assert stored.wa_id in {None, "254712345678"} and len(stored.profile_name) <= 120


def test_a_certificate_photo_behind_a_url_too_long_to_keep_is_refused_not_a_crash(app, member):  # noqa: F811
    play(member, [("courses", []), ("3", []), ("yes", ["You are enrolled"]), ("certificate", []),
                  ("1", ["Certificate for Software Development."])])
    assert member.post(member.form("", **LONG_MEDIA)).status_code == 400
    assert "Certificate for Software Development." in member.says("1")  # still waiting for the proof, not stuck


def test_the_status_fast_paths_form_parse_reads_a_form_as_parse_qsl_does():
    from urllib.parse import parse_qsl

    from bot.whatsapp.webhook import form_pairs

    forms = ["MessageSid=SM1&MessageStatus=read", "a=&b", "&&a=%41+b&c=d=e", "x=%zz&y=+", "", "k=%E2%82%AC&k=%E2%82%AC",
             "=v&k=", "a;b=c", "To=whatsapp%3A%2B254700000001&Body=Habari+yako%3F"]
    for form in forms:
        assert form_pairs(form) == parse_qsl(form, keep_blank_values=True)


def test_the_signature_is_checked_against_the_same_joined_form_from_pairs_or_a_multidict():
    from werkzeug.datastructures import MultiDict

    from bot.whatsapp.twilio_api import joined_pairs, signed_params

    pairs = [("b", "2"), ("a", "z"), ("a", "y"), ("a", "z"), ("c", "")]
    assert joined_pairs(pairs) == signed_params(MultiDict(pairs)) == "ayazb2c"
