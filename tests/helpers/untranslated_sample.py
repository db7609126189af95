"""A marked message with no translation: the catalog check must notice it (used by test_i18n)."""

from flows.base import N_

SAMPLE = N_("A sentence nobody has translated yet.")
