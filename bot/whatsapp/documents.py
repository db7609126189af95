"""Documents sent to a member on WhatsApp: MY DATA FILE (the member's data as a PDF, with links to the same
data as JSON and CSV), built by a worker, never in the webhook.

The performer queues `send_my_data_file` once the message's transaction commits; the job builds the export
(`bot.privacy.export.write_export`) and stores one outbound message carrying the PDF (Twilio fetches it from
`PUBLIC_URL` through the signed link) with the JSON and CSV links in its text. Safe to run twice: a second
run makes a second export, whose links work as well as the first's.
"""

from __future__ import annotations

from datetime import datetime

from rq import Retry

from bot.core import jobs
from bot.core.extensions import db
from bot.models import Member
from bot.privacy import export
from bot.whatsapp import outbound
from flows.base import N_, Reply, Text, msg
from flows.effects import SendMyDataFile

DOCUMENT_SENT = N_("Here is all your data in a document (PDF). The same data for a computer: JSON %(json)s · "
                   "CSV %(csv)s")
LINKS_LAST = N_("These links work for 24 hours. Anyone who has them can open your data: do not forward them.")


def perform_send_my_data_file(member: Member, effect: SendMyDataFile, now: datetime) -> None:
    """Queue the document's job once the message is committed (retried: a retry builds a fresh export)."""
    jobs.after_commit(db.session, "replies", send_my_data_file, member.id, retry=Retry(max=3, interval=[10, 60, 300]),
                      unqueued="the member is not sent the document; they can ask again")


@jobs.job
def send_my_data_file(member_id: int) -> str:
    """The job: build the member's export and send the PDF with the JSON and CSV links."""
    # The member's row stays locked while the files are written, as while a message of theirs is processed: a
    # DELETE MY DATA waits for the export (and its hook deletes the files) or the export finds the member erased.
    member = db.session.get(Member, member_id, with_for_update=True)
    if member is None or member.erased:
        return "no member"
    export_id = export.write_export(member)
    urls = export.links(member.id, export_id)
    reply = Reply.of(msg(DOCUMENT_SENT, json=Text(urls["json"]), csv=Text(urls["csv"])), msg(LINKS_LAST))
    outbound.notify(member, reply, media={"url": urls["pdf"], "content_type": "application/pdf"})
    db.session.commit()
    return "sent"
