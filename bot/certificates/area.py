"""The certificates area: certificate reports and their files, vouchers and the waiting list."""

from __future__ import annotations

from flask import Flask

from bot.certificates import files
from bot.certificates import service as certificates
from bot.core.area import Area
from bot.core.jobs import job
from bot.core.periodic import PeriodicJob


@job
def requeue_certificate_downloads() -> int:
    """Queue again certificate files whose download job was lost."""
    from bot.certificates.service import requeue_downloads

    return requeue_downloads()


@job
def send_reserved_vouchers() -> int:
    """Send voucher codes kept for members they could not reach, once they can be reached."""
    from bot.certificates.service import send_reserved_vouchers as send

    return send()


def setup(app: Flask) -> None:
    """The signed links to stored certificate files."""
    app.register_blueprint(files.bp)


AREA = Area(
    "certificates",
    erasure_hooks=(certificates.erase_certificates,),
    retention_checks=(certificates.certificates_past_time,),
    after_message=(certificates.send_voucher_kept_for,),
    not_sent={"voucher": certificates.voucher_not_sent},
    periodic=(PeriodicJob(requeue_certificate_downloads, "default", interval=900),
              PeriodicJob(send_reserved_vouchers, "default", interval=300)),
    setup=setup,
    tables=("certificates", "vouchers"),
    # A voucher given stays given (the pool's counts); it holds no more than the code.
    anonymous_tables=("vouchers",),
)
