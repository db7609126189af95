"""Reading staff's filter words without a database: counties as sign-up reads them, kinds of work by label,
synonym and plural, and every other word kept as not understood."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from flows.filters import FILLER, Filters, Unknown, read_filters, words_of, work_phrases

PHRASES = work_phrases({"Transcription": "transcription", "Unukuzi": "transcription",
                        "Ride-hailing or delivery": "ride_delivery", "Kazi huru mtandaoni": "online_freelancing"})


def test_counties_towns_and_kinds_of_work_in_any_order():
    assert read_filters("Msa boda boda", PHRASES) == Filters(("Mombasa",), ("ride_delivery",))
    assert read_filters("deliveries in Eldoret", PHRASES) == Filters(("Uasin Gishu",), ("ride_delivery",))
    assert read_filters("Homa Bay, transcription", PHRASES) == Filters(("Homa Bay",), ("transcription",))
    assert read_filters("kazi huru mtandaoni kaunti ya Kakuma", PHRASES) == Filters(("Turkana",), ("online_freelancing",))
    assert read_filters("Nairobi Nbi", PHRASES) == Filters(("Nairobi",))


def test_a_word_not_understood_is_kept_with_what_it_may_mean():
    found = read_filters("Eldoret freelancin", PHRASES)
    assert found.counties == ("Uasin Gishu",) and found.unknown == (Unknown("freelancin", ("online_freelancing",)),)
    assert read_filters("Nairobi qqqq", PHRASES).unknown == (Unknown("qqqq"),)


WORDS = st.sampled_from(["nairobi", "msa", "eldoret", "boda", "delivery", "transcription", "in", "kaunti", "qqq",
                         "freelancin", "homa bay", "riders", "zzz", "upwork", "kisumu"])


@given(st.lists(WORDS, min_size=1, max_size=6))
def test_no_word_is_ever_dropped(words):
    found = read_filters(" ".join(words), PHRASES)
    typed = [w for w in words_of(" ".join(words)) if w not in FILLER]
    assert [u.word for u in found.unknown] == [w for w in typed if w in ("qqq", "zzz", "freelancin")]
    if typed and not found.unknown:
        assert found.counties or found.works
