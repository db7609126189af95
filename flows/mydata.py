"""Members' data rights (Kenya Data Protection Act 2019): MY DATA shows everything held about the member;
MY DATA FILE sends the same and more (courses, certificates, the voucher, questions) as a document (s.38,
portability); DELETE MY DATA, after a confirmation, erases the personal data.

The engine supplies the summary as `facts["my_data"]` (a mapping of plain values); the document's sections
(`document`) are built from the export's data by the privacy area, which renders and prints them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.base import (
    N_,
    NOT_GIVEN,
    NP_,
    Ctx,
    Input,
    Line,
    Msg,
    PerLanguage,
    Reply,
    Result,
    State,
    Text,
    label_of,
    msg,
    msgn,
)
from flows.choices import ask_which, not_understood, read
from flows.courses import STATUS_LABELS as ENROLMENT_LABELS
from flows.effects import EraseMyData, SendMyDataFile
from flows.form import re_ask
from flows.signup import COMMUNITY_LABELS, GENDER_LABELS, WORK_LABELS
from flows.yes_no import yes_no

NAME = "mydata"

DELETE_CHOICES = yes_no(msg(N_("Yes, delete my data")), msg(N_("No, keep it")))
CONFIRM = (
    msg(N_("This erases your name, phone number, messages and files for good, and ends your membership. "
           "We keep only anonymous counts (county, kind of work, month you joined, courses completed).")),
    msg(N_("Delete your data?")),
    DELETE_CHOICES,
)
CONFIRM_AGAIN = msg(N_("Please reply 1 to delete your data or 2 to keep it."))
ERASED = msg(N_("Your personal data has been deleted. Thank you for being part of the union. "
                "You can write to us again at any time."))
KEPT = msg(N_("Nothing was deleted. Send MENU for the main menu."))
DELETE_HINT = msg(N_("To erase your personal data, send DELETE MY DATA."))
FILE_HINT = msg(N_("To get all of it as a document (PDF), with links to the same data as JSON and CSV, send MY DATA FILE."))
FILE_COMING = msg(N_("We are putting all your data in a document (PDF). It will arrive here in a minute or two."))

# The document (MY DATA FILE): its title, its sections and their lines.
DOCUMENT_TITLE = N_("Your data held by %(union)s")
DOCUMENT_MADE = N_("Made on %(date)s. The links to this document work for 24 hours from then.")
ABOUT_YOU = N_("About you")
COURSES = N_("Courses")
CERTIFICATES = N_("Certificates reported")
VOUCHER = N_("LinkedIn Premium voucher")
QUESTIONS = N_("Questions to organisers")
NONE_YET = msg(N_("None."))
COURSE_LINE = N_("%(course)s: %(status)s (since %(date)s)")
CERTIFICATE_LINE = N_("%(course)s, reported %(date)s: %(status)s")
CERTIFICATE_REASON = N_("Reason given: %(reason)s")
VOUCHER_LINE = N_("Code %(code)s, given %(date)s, valid until %(expires)s")
VOUCHER_LINE_NO_EXPIRY = N_("Code %(code)s, given %(date)s")
QUESTION_LINE = N_("Question #%(number)s, %(date)s: %(status)s")
FROM_YOU = N_("You: %(text)s")
FROM_ORGANISER = N_("Organiser: %(text)s")
CERTIFICATE_LABELS = {
    "downloading": N_("we are receiving the file"),
    "pending": N_("waiting for review"),
    "failed": N_("the file could not be received"),
    "invalid": N_("the file could not be read"),
    "approved": N_("approved by an officer"),
    "waiting": N_("approved, waiting for a voucher"),
    "rewarded": N_("approved, voucher sent"),
    "rejected": N_("not accepted"),
}
# Keys of bot.models.support.TicketStatus (flows import nothing from bot): every state a ticket may be in.
TICKET_LABELS = {"open": N_("still open"), "waiting": N_("answered, waiting for your reply"),
                 "answered": N_("answered, still open"), "closed": N_("answered and closed")}
CORRECT_HINT = msg(N_("To change your details, send CHANGE MY DETAILS."))


def value(raw: Any) -> Line:
    """A stored value as shown, or 'not given'."""
    return label_of({}, raw)


def summary(ctx: Ctx) -> Reply:
    """Everything held about the member, one line each, and how to get it as a document or erase it."""
    data: Mapping[str, Any] = ctx.member.facts.get("my_data") or {}
    correct = [CORRECT_HINT] if ctx.member.is_member else []
    return Reply.of(msg(N_("This is everything we hold about you:")), *summary_lines(data), FILE_HINT, *correct,
                    DELETE_HINT)


def summary_lines(data: Mapping[str, Any]) -> list[Msg]:
    """The MY DATA lines for a summary (`bot.privacy.service.summary`): the member's details and counts."""
    work: list[Line] = [msg(WORK_LABELS[k]) for k in data.get("work", ()) if k in WORK_LABELS and k != "other"]
    if data.get("work_other"):
        work.append(Text(str(data["work_other"])))
    consent = data.get("consent_at")
    return [
        msg(N_("Name: %(value)s"), value=value(data.get("name"))),
        msg(N_("Phone: %(value)s"), value=value(data.get("phone"))),
        *([msg(N_("WhatsApp user id: %(value)s"), value=Text(str(data["user_id"])))] if data.get("user_id") else []),
        msg(N_("WhatsApp name: %(value)s"), value=value(data.get("profile_name"))),
        msg(N_("Member number: %(value)s"), value=value(data.get("member_number"))),
        msg(N_("County: %(value)s"), value=value(data.get("county"))),
        msg(N_("Work: %(value)s"), value=work or NOT_GIVEN),
        msg(N_("Gender: %(value)s"), value=label_of(GENDER_LABELS, data.get("gender"))),
        msg(N_("Community: %(value)s"), value=label_of(COMMUNITY_LABELS, data.get("community"))),
        msg(N_("Language: %(value)s"), value=value(data.get("language"))),
        msg(N_("Joined: %(value)s"), value=value(data.get("joined_at"))),
        msg(N_("Consent given: %(value)s"), value=(
            msg(N_("%(date)s (notice version %(version)s)"), date=Text(str(consent)),
                version=Text(str(data.get("consent_version") or "")))
            if consent else NOT_GIVEN)),
        msg(N_("Messages from us: %(value)s"),
            value=msg(N_("stopped")) if data.get("opted_out") else msg(N_("allowed"))),
        msg(N_("Union news (broadcasts): %(value)s"),
            value=msg(N_("stopped (send BROADCASTS ON to get them)")) if data.get("broadcasts_stopped")
            else msg(N_("allowed (send NO BROADCASTS to stop them)"))),
        msgn(NP_("Messages stored: %(count)s (message texts are deleted after %(days)s day)",
                 "Messages stored: %(count)s (message texts are deleted after %(days)s days)"), "days",
            count=Text(str(data.get("messages", 0))), days=Text(str(data.get("retention_days", "")))),
        msg(N_("Questions to organisers: %(count)s"), count=Text(str(data.get("tickets", 0)))),
        msg(N_("Courses: %(count)s; certificates reported: %(certificates)s"),
            count=Text(str(data.get("enrolments", 0))), certificates=Text(str(data.get("certificates", 0)))),
    ]


def title_of(titles: Any) -> PerLanguage | Text:
    """A course title in the reader's language (the export gives every language's)."""
    return PerLanguage(dict(titles)) if isinstance(titles, Mapping) else Text(str(titles or ""))


def document(data: Mapping[str, Any]) -> list[tuple[Msg, list[Line]]]:
    """The sections of the MY DATA document, each a heading and its lines, from the export's data
    (`bot.privacy.export.collect`): MY DATA's lines, then courses, certificates, the voucher and questions."""
    courses: list[Line] = [
        msg(COURSE_LINE, course=title_of(row.get("course_title")),
            status=msg(ENROLMENT_LABELS.get(row.get("status"), ENROLMENT_LABELS["enrolled"])),
            date=Text(str(row.get("enrolled_on") or "")))
        for row in data.get("courses") or ()]
    certificates: list[Line] = []
    for row in data.get("certificate_reports") or ():
        certificates.append(msg(CERTIFICATE_LINE, course=title_of(row.get("course_title")),
                                date=Text(str(row.get("reported_on") or "")),
                                status=label_of(CERTIFICATE_LABELS, row.get("status"))))
        if row.get("link"):
            certificates.append(Text(str(row["link"])))
        if row.get("reason"):
            certificates.append(msg(CERTIFICATE_REASON, reason=Text(str(row["reason"]))))
    voucher = data.get("voucher")
    vouchers: list[Line] = [
        msg(VOUCHER_LINE if voucher.get("expires_on") else VOUCHER_LINE_NO_EXPIRY, code=Text(str(voucher.get("code") or "")),
            date=value(voucher.get("given_on")), expires=value(voucher.get("expires_on")))] if voucher else []
    questions: list[Line] = []
    for row in data.get("questions") or ():
        questions.append(msg(QUESTION_LINE, number=Text(str(row.get("number"))), date=Text(str(row.get("opened_on") or "")),
                             status=label_of(TICKET_LABELS, row.get("status"))))
        for line in row.get("lines") or ():
            if line.get("text"):
                questions.append(msg(FROM_YOU if line.get("from") == "member" else FROM_ORGANISER,
                                     text=Text(str(line["text"]))))
    return [
        (msg(ABOUT_YOU), list(summary_lines(data))),
        (msg(COURSES), courses or [NONE_YET]),
        (msg(CERTIFICATES), certificates or [NONE_YET]),
        (msg(VOUCHER), vouchers or [NONE_YET]),
        (msg(QUESTIONS), questions or [NONE_YET]),
    ]


class MyData:
    """MY DATA (a summary) and DELETE MY DATA (a confirmation, then the erasure)."""

    name = NAME

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """The summary, the document on its way, or the deletion question."""
        if (data or {}).get("delete"):
            return Result(State(NAME, "confirm"), (Reply.of(*CONFIRM),))
        if (data or {}).get("file"):
            return Result(None, (Reply.of(FILE_COMING),), (SendMyDataFile(),))
        return Result(None, (summary(ctx),))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """1 / yes erases, 2 / no keeps; anything else asks again."""
        found = read(DELETE_CHOICES, ctx, inp)
        if found.one == "yes":
            return Result(None, (Reply.of(ERASED),), (EraseMyData(),))
        if found.one == "no":
            return Result(None, (Reply.of(KEPT),))
        if found.ask:
            return ask_which(state, DELETE_CHOICES, found)
        return re_ask(state, (*not_understood(found), CONFIRM_AGAIN))

    def back(self, ctx: Ctx, state: State) -> Result:
        """Ask again."""
        return self.ask(ctx, state)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """The deletion question again."""
        return Result(state, (Reply.of(*CONFIRM),))

    def topic(self, state: State) -> Msg:
        """What the member was doing."""
        return msg(N_("whether to delete your data"))


FLOW = MyData()
