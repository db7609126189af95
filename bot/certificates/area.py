"""The certificates area: certificate reports and their files, vouchers and the waiting list."""

from __future__ import annotations

from flask import Flask

from bot.certificates import files
from bot.certificates import service as certificates
from bot.core import periodic
from bot.core.area import Area
from bot.core.periodic import PeriodicJob


def setup(app: Flask) -> None:
    """The signed links to stored certificate files."""
    app.register_blueprint(files.bp)


AREA = Area(
    "certificates",
    erasure_hooks=(certificates.erase_certificates,),
    periodic=(PeriodicJob(periodic.requeue_certificate_downloads, "default", interval=900),
              PeriodicJob(periodic.send_reserved_vouchers, "default", interval=300)),
    setup=setup,
    tables=("certificates", "vouchers"),
    # A voucher given stays given (the pool's counts); it holds no more than the code.
    anonymous_tables=("vouchers",),
)
