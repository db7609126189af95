"""Yes/no questions as choices: the two options every yes/no step offers and reads with the one matcher.

A yes/no step shows its two options (numbered, later buttons) and reads the answer with `flows.choices.read`:
YES, NDIYO, SAWA, OUI, HAA, نعم … and NO, HAPANA, NON, MAYA, لا … in every configured language, and their loose
spellings, choose; a message that says more than yes or no ("ok and how much is the fee") chooses nothing.
"""

from __future__ import annotations

from flows.base import Choices, Line, Option, Text
from flows.vocabulary import INTENTS


def yes_no(yes: Line, no: Line, *, yes_words: tuple[str, ...] = (), no_words: tuple[str, ...] = ()) -> Choices:
    """Two options, `yes` (1) and `no` (2), with the vocabulary's yes and no words of every language; `yes_words`
    and `no_words`: more message ids whose words also mean yes ("it helped") or no (SKIP)."""
    return Choices.of((Option("yes", yes, (INTENTS["yes"], *yes_words), intent="yes"),
                       Option("no", no, (INTENTS["no"], *no_words), intent="no")))


# A yes or a no where the step's numbers mean something else (the summary's answers to change): read by word only,
# with the numbers kept out by the step.
YES_OR_NO = yes_no(Text("YES"), Text("NO"))
