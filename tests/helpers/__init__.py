"""What the tests share besides fixtures (those are in `tests/conftest.py`): the signed WhatsApp client, the
dashboard's sign-in, seeding members, courses and reports, the sign-up scripts and the pure transcript driver."""
