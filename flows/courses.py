"""Free courses: the catalog (paged), enrolling, MY COURSES, and reporting a certificate.

The engine supplies the catalog and the member's enrolments in `ctx.member.facts` ("courses": list of
{id, titles, summaries, hours, url}; "enrolments": list of {course_id, status, completed}: `completed` when the certificate was accepted).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flows.base import (
    N_,
    NP_,
    Choices,
    Ctx,
    Input,
    Line,
    Msg,
    Option,
    Part,
    Reply,
    Result,
    State,
    Text,
    msg,
    msgn,
    numbered,
)
from flows.choices import Match, ask_which, not_understood, read
from flows.effects import Enrol, ReportCertificateFile, ReportCertificateLink
from flows.form import re_ask
from flows.yes_no import yes_no

COURSES, MY_COURSES, CERTIFICATE = "courses", "mycourses", "certificate"
# The certificate flow's step that waits for the link or file of one course (data: `course_id`).
PROOF = "proof"
PAGE_SIZE = 5

# Certificate files we accept (by the content type Twilio gives) and the extension they are stored under.
FILE_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "application/pdf": "pdf"}
CERTIFICATE_LINK = re.compile(
    r"(?:https?://)?(?:[a-z]{2,3}\.)?(?:www\.)?linkedin\.com/learning/certificates/([A-Za-z0-9_-]{8,128})",
    re.IGNORECASE,
)

STATUS_LABELS = {
    "enrolled": N_("enrolled"),
    "reported": N_("certificate reported, waiting for review"),
    "verified": N_("certificate verified"),
    "rewarded": N_("certificate verified, voucher sent"),
}

NO_COURSES = msg(N_("There are no courses right now. Please check again soon."))
LINK_HINT = msg(N_("Send the link to your certificate (it starts with https://www.linkedin.com/learning/certificates/), or a photo or PDF of it."))
NOT_A_LINK = msg(N_("That does not look like a LinkedIn Learning certificate link."))
UNSUPPORTED_FILE = msg(N_("We can only read JPG, PNG or WEBP photos and PDF files."))
RECEIVED_LINK = NP_("Thank you! Your certificate for %(course)s is waiting for review: an officer usually checks within %(review_days)s day.",
                    "Thank you! Your certificate for %(course)s is waiting for review: an officer usually checks within %(review_days)s days.")
FETCHING = N_("Thank you! We are receiving your file for %(course)s and will tell you when it is ready for review.")


def certificate_link(text: str) -> tuple[str, str] | None:
    """The normalised LinkedIn Learning certificate link in a message and its certificate ID, or None."""
    found = CERTIFICATE_LINK.search(text or "")
    if not found:
        return None
    key = found.group(1)
    return f"https://www.linkedin.com/learning/certificates/{key}", key.lower()


def courses_of(ctx: Ctx) -> list[Mapping[str, Any]]:
    """The catalog the engine supplied."""
    return list(ctx.member.facts.get("courses") or ())


def enrolment_status(ctx: Ctx, course_id: int) -> str | None:
    """The member's status in a course, or None when not enrolled."""
    for enrolment in ctx.member.facts.get("enrolments") or ():
        if enrolment["course_id"] == course_id:
            status: str | None = enrolment["status"]
            return status
    return None


def completed(ctx: Ctx, course_id: int) -> bool:
    """Whether the member's certificate for the course was accepted (the engine decides which statuses)."""
    return any(e["course_id"] == course_id and e.get("completed") for e in ctx.member.facts.get("enrolments") or ())


def localized(ctx: Ctx, texts: Mapping[str, str], fallback: str = "") -> str:
    """A catalog text in the member's language (English as the fallback)."""
    return texts.get(ctx.lang) or texts.get("en") or fallback


def title(ctx: Ctx, course: Mapping[str, Any]) -> Text:
    """A course's title."""
    return Text(localized(ctx, course["titles"], course.get("slug", "")))


def find(ctx: Ctx, course_id: Any) -> Mapping[str, Any] | None:
    """A course of the catalog by id."""
    return next((c for c in courses_of(ctx) if c["id"] == course_id), None)


def course_choices(ctx: Ctx, courses: Sequence[Mapping[str, Any]],
                   label: Callable[[Mapping[str, Any]], Line] | None = None) -> Choices:
    """Courses as choices, numbered in order: each read by its number, its title or the catalog's words for it
    ("excel", "kompyuta"), in any language."""
    return Choices.of(
        Option(str(c["id"]), label(c) if label else title(ctx, c), words=words_of(c)) for c in courses)


def words_of(course: Mapping[str, Any]) -> tuple[str, ...]:
    """A course's titles and the catalog's words for it, in every language."""
    titles = [v for v in course["titles"].values() if v]
    words = [w for ws in (course.get("words") or {}).values() for w in ws if w]
    return tuple(dict.fromkeys((*titles, *words)))


# Enrol in the course shown? YES or 1, NO or 2 (0 goes back too).
ENROL = yes_no(Text("1"), Text("2"))


def hours_text(hours: float) -> Text:
    """Hours without a needless '.0'."""
    return Text(f"{hours:g}")


def enrolled_reply(ctx: Ctx, course: Mapping[str, Any], first: Msg) -> Reply:
    """The course link and three how-to steps."""
    return Reply.of(
        first,
        msg(N_("Your course link: %(url)s"), url=Text(course["url"])),
        msg(N_("How to do it:")),
        *numbered([
            msg(N_("Open the link and sign in to LinkedIn (or create a free account).")),
            msg(N_("Watch the videos and pass the short tests, at your own pace.")),
            msg(N_("When you finish, download your certificate and send CERTIFICATE here to report it.")),
        ]),
        *(() if ctx.member.is_member else (
            msg(N_("Certificates and the LinkedIn Premium voucher are for union members: send JOIN to become one.")),)),
    )


class Courses:
    """The catalog: pick a course, read about it, confirm to enrol."""

    name = COURSES

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Show the first page of the catalog."""
        if not courses_of(ctx):
            return Result(None, (Reply.of(NO_COURSES),))
        return self.ask(ctx, State(COURSES, "list", {"page": 0}))

    def item(self, ctx: Ctx, course: Mapping[str, Any]) -> Msg:
        """A course's line in the list: its title and summary."""
        return msg(N_("%(title)s: %(summary)s"), title=title(ctx, course),
                   summary=Text(localized(ctx, course["summaries"])))

    def page_lines(self, ctx: Ctx, page: int) -> list[Part]:
        """One page of the catalog, numbered across pages."""
        courses = courses_of(ctx)
        first = page * PAGE_SIZE
        page_ids = [str(c["id"]) for c in courses[first:first + PAGE_SIZE]]
        shown = course_choices(ctx, courses, lambda c: self.item(ctx, c)).only(page_ids)
        lines: list[Part] = [
            msg(N_("Free courses by Microsoft on LinkedIn Learning. Reply with a number to read more:")),
            shown,
        ]
        if len(courses) > PAGE_SIZE:
            lines.append(msg(N_("Reply 0 for more courses.")))
        if ctx.member.facts.get("enrolments"):
            lines.append(msg(N_("Reply MY COURSES to see your courses.")))
        return lines

    def ask(self, ctx: Ctx, state: State) -> Result:
        """The current page, or the chosen course."""
        if state.step == "confirm":
            course = find(ctx, state.data.get("course_id"))
            if course is None:
                return self.start(ctx)
            return Result(state, (Reply.of(*self.describe(ctx, course)),))
        page = state.data.get("page", 0)
        if page * PAGE_SIZE >= len(courses_of(ctx)):
            page = 0
        return Result(state.with_data(page=page), (Reply.of(*self.page_lines(ctx, page)),))

    def describe(self, ctx: Ctx, course: Mapping[str, Any]) -> Sequence[Line]:
        """What a course is and how long it takes, and the question."""
        return (
            title(ctx, course),
            Text(localized(ctx, course["summaries"])),
            msg(N_("It takes about %(hours)s hours, at your own pace, on a phone or a computer. It is free."),
                hours=hours_text(course.get("hours") or 0)),
            msg(N_("Reply YES to enrol, or NO to see the list again.")),
        )

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """A number from the list, 0 for more; then YES or NO."""
        if inp.means("mycourses"):
            return MY_COURSES_FLOW.start(ctx)
        if inp.means("courses"):
            return self.start(ctx)
        if state.step == "confirm":
            return self.confirm(ctx, state, inp)
        courses = courses_of(ctx)
        if not courses:
            return Result(None, (Reply.of(NO_COURSES),))
        if inp.text.strip() == "0" and len(courses) > PAGE_SIZE:
            return self.ask(ctx, State(COURSES, "list", {"page": state.data.get("page", 0) + 1}))
        every = course_choices(ctx, courses)
        found = read(every, ctx, inp)
        if found.one:
            return self.ask(ctx, state.at("confirm", course_id=int(found.one)))
        if found.ask:
            return ask_which(state, every, found)
        reason = msg(N_("Please reply with the number of a course, from 1 to %(count)s."), count=len(courses))
        return self.miss(ctx, state, reason, found)

    def confirm(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """YES enrols (once); NO goes back to the list."""
        course = find(ctx, state.data.get("course_id"))
        if course is None:
            return self.start(ctx)
        found = read(ENROL, ctx, inp)
        if found.one == "yes":
            if enrolment_status(ctx, course["id"]) is not None:
                first = msg(N_("You are already enrolled in %(course)s."), course=title(ctx, course))
                return Result(None, (enrolled_reply(ctx, course, first),))
            first = msg(N_("You are enrolled in %(course)s!"), course=title(ctx, course))
            return Result(None, (enrolled_reply(ctx, course, first),), (Enrol(course["id"]),))
        if found.one == "no" or inp.means("no") or inp.text.strip() == "0":
            return self.ask(ctx, state.at("list"))
        return self.miss(ctx, state, msg(N_("Please reply YES to enrol, or NO to see the list again.")), found)

    def miss(self, ctx: Ctx, state: State, reason: Msg, found: Match | None = None) -> Result:
        """Re-ask with a reason; after three misses, offer the menu or a person."""
        asked = self.ask(ctx, state)
        [body] = asked.replies
        assert asked.state is not None  # the catalog is not empty here: `ask` shows a page or the course
        heard = not_understood(found) if found else ()
        return re_ask(state, (*heard, reason), *body.parts(), data=asked.state.data)

    def back(self, ctx: Ctx, state: State) -> Result:
        """From a course back to the list."""
        return self.ask(ctx, state.at("list"))

    def topic(self, state: State) -> Msg:
        """What the member was doing."""
        return msg(N_("which course you want"))


class MyCourses:
    """Each enrolment and where it stands."""

    name = MY_COURSES

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """List the member's courses; nothing to answer afterwards."""
        enrolments = ctx.member.facts.get("enrolments") or ()
        if not enrolments:
            return Result(None, (Reply.of(msg(N_("You are not enrolled in any course yet. Send COURSES to see the free courses."))),))
        lines: list[Line] = [msg(N_("Your courses:"))]
        for enrolment in enrolments:
            course = find(ctx, enrolment["course_id"])
            if course is None:
                continue
            label = msg(STATUS_LABELS.get(enrolment["status"], STATUS_LABELS["enrolled"]))
            lines.append(msg(N_("%(title)s: %(status)s"), title=title(ctx, course), status=label))
        lines.append(msg(N_("Finished a course? Send CERTIFICATE to report it.")))
        return Result(None, (Reply.of(*lines),))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """Never waits for an answer: show the list again."""
        return self.start(ctx)

    def ask(self, ctx: Ctx, state: State) -> Result:
        """Show the list again."""
        return self.start(ctx)

    def back(self, ctx: Ctx, state: State) -> Result:
        """Show the list again."""
        return self.start(ctx)

    def topic(self, state: State) -> Msg:
        """What the member was doing."""
        return msg(N_("your courses"))


class ReportCertificate:
    """Pick the course, then send the certificate link, photo or PDF."""

    name = CERTIFICATE

    def ordered(self, ctx: Ctx) -> list[Mapping[str, Any]]:
        """The member's courses first, then the rest of the catalog."""
        courses = courses_of(ctx)
        mine = [c for c in courses if enrolment_status(ctx, c["id"]) is not None]
        return mine + [c for c in courses if c not in mine]

    def start(self, ctx: Ctx, data: Mapping[str, Any] | None = None) -> Result:
        """Ask which course (or go straight to the proof when it is known)."""
        if not courses_of(ctx):
            return Result(None, (Reply.of(NO_COURSES),))
        if data and find(ctx, data.get("course_id")):
            return self.ask(ctx, State(CERTIFICATE, PROOF, {"course_id": data["course_id"]}))
        return self.ask(ctx, State(CERTIFICATE, "course", {}))

    def ask(self, ctx: Ctx, state: State) -> Result:
        """The question of the current step."""
        if state.step == PROOF:
            course = find(ctx, state.data.get("course_id"))
            if course is None:
                return self.ask(ctx, State(CERTIFICATE, "course", {}))
            return Result(state, (Reply.of(msg(N_("Certificate for %(course)s."), course=title(ctx, course)), LINK_HINT),))
        return Result(state, (Reply.of(
            msg(N_("Which course is your certificate for? Reply with its number:")),
            course_choices(ctx, self.ordered(ctx)),
        ),))

    def handle(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """A course number, then a link or a file."""
        if state.step == PROOF:
            return self.proof(ctx, state, inp)
        courses = self.ordered(ctx)
        every = course_choices(ctx, courses)
        chosen = read(every, ctx, inp)
        course = find(ctx, int(chosen.one)) if chosen.one else None
        if course is None:
            if chosen.ask:
                return ask_which(state, every, chosen)
            return self.miss(ctx, state, msg(N_("Please reply with the number of a course, from 1 to %(count)s."),
                                             count=len(courses)), chosen)
        status = enrolment_status(ctx, course["id"])
        if completed(ctx, course["id"]):
            return Result(None, (Reply.of(msg(N_("Your certificate for %(course)s is already approved."), course=title(ctx, course))),))
        if status == "reported":
            return Result(None, (Reply.of(msg(N_("We already have your certificate for %(course)s. It is waiting for review."), course=title(ctx, course))),))
        return self.ask(ctx, state.at(PROOF, course_id=course["id"]))

    def proof(self, ctx: Ctx, state: State, inp: Input) -> Result:
        """A certificate link, or a supported photo or PDF."""
        course = find(ctx, state.data.get("course_id"))
        if course is None:
            return self.ask(ctx, State(CERTIFICATE, "course", {}))
        if inp.media:
            media = inp.media[0]
            kind = media.content_type.split(";")[0].strip().lower()
            if kind not in FILE_TYPES:
                return self.miss(ctx, state, UNSUPPORTED_FILE)
            reply = Reply.of(msg(FETCHING, course=title(ctx, course)))
            return Result(None, (reply,), (ReportCertificateFile(course["id"], media.url, kind),))
        found = certificate_link(inp.text)
        if found is None:
            return self.miss(ctx, state, NOT_A_LINK)
        link, key = found
        reply = Reply.of(msgn(RECEIVED_LINK, "review_days", course=title(ctx, course)))
        return Result(None, (reply,), (ReportCertificateLink(course["id"], link, key),))

    def miss(self, ctx: Ctx, state: State, reason: Msg, found: Match | None = None) -> Result:
        """Re-ask with a reason; after three misses, offer the menu or a person."""
        [body] = self.ask(ctx, state).replies
        heard = not_understood(found) if found else ()
        return re_ask(state, (*heard, reason), *body.parts())

    def back(self, ctx: Ctx, state: State) -> Result:
        """From the proof back to the course list."""
        return self.ask(ctx, State(CERTIFICATE, "course", {}))

    def topic(self, state: State) -> Msg:
        """What the member was doing."""
        return msg(N_("your certificate"))


COURSES_FLOW = Courses()
MY_COURSES_FLOW = MyCourses()
CERTIFICATE_FLOW = ReportCertificate()
