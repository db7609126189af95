"""Tests for the county list and the loose county matcher."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.counties import ALIASES, COUNTIES, CountyMatch, is_county, match_county

OFFICIAL_ORDER = (
    "Mombasa", "Kwale", "Kilifi", "Tana River", "Lamu", "Taita Taveta", "Garissa", "Wajir", "Mandera",
    "Marsabit", "Isiolo", "Meru", "Tharaka-Nithi", "Embu", "Kitui", "Machakos", "Makueni", "Nyandarua",
    "Nyeri", "Kirinyaga", "Murang'a", "Kiambu", "Turkana", "West Pokot", "Samburu", "Trans Nzoia",
    "Uasin Gishu", "Elgeyo-Marakwet", "Nandi", "Baringo", "Laikipia", "Nakuru", "Narok", "Kajiado",
    "Kericho", "Bomet", "Kakamega", "Vihiga", "Bungoma", "Busia", "Siaya", "Kisumu", "Homa Bay", "Migori",
    "Kisii", "Nyamira", "Nairobi",
)


def sure(county: str) -> CountyMatch:
    """The match for text that surely names the county."""
    return CountyMatch(county, ())


NOTHING = CountyMatch(None, ())


def test_there_are_47_unique_counties_in_official_code_order() -> None:
    """Code 001 is Mombasa and 047 is Nairobi, with no county missing or repeated."""
    assert len(COUNTIES) == 47
    assert len(set(COUNTIES)) == 47
    assert COUNTIES == OFFICIAL_ORDER
    assert COUNTIES.index("Kiambu") + 1 == 22
    assert COUNTIES.index("Kisumu") + 1 == 42


@pytest.mark.parametrize("county", COUNTIES)
def test_each_official_name_matches_itself(county: str) -> None:
    """The name as written, in lower or upper case, or without hyphen and apostrophe."""
    plain = county.lower().replace("-", " ").replace("'", "")
    for text in (county, county.lower(), county.upper(), plain, plain.replace(" ", ""), f"  {county} county  "):
        assert match_county(text) == sure(county), text


@pytest.mark.parametrize("county", COUNTIES)
def test_each_official_name_is_a_county(county: str) -> None:
    """is_county accepts the official spelling."""
    assert is_county(county)


@pytest.mark.parametrize("name", ["nairobi", "Nairobi City", "Muranga", "Tharaka Nithi", "Eldoret", "Kenya", "", " Nairobi"])
def test_is_county_wants_the_exact_official_name(name: str) -> None:
    """Anything but the exact official name is not a county, however close."""
    assert not is_county(name)


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("nairobi", "Nairobi"),
        ("Murang'a", "Murang'a"),
        ("Murang\u2019a", "Murang'a"),
        ("muranga", "Murang'a"),
        ("tharaka nithi", "Tharaka-Nithi"),
        ("elgeyo marakwet", "Elgeyo-Marakwet"),
        ("homabay", "Homa Bay"),
        ("HOMA-BAY", "Homa Bay"),
        ("uasin-gishu", "Uasin Gishu"),
        ("taita-taveta", "Taita Taveta"),
        ("trans-nzoia", "Trans Nzoia"),
        ("transnzoia", "Trans Nzoia"),
        ("Tana  River!!", "Tana River"),
        ("M\u00f3mbasa", "Mombasa"),
        ("\uff2e\uff41\uff49\uff52\uff4f\uff42\uff49", "Nairobi"),
    ],
)
def test_spellings_of_official_names(text: str, county: str) -> None:
    """Case, punctuation, accents, full-width letters and spacing do not matter."""
    assert match_county(text) == sure(county)


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("I live in Nairobi", "Nairobi"),
        ("i live in nairobi city", "Nairobi"),
        ("Nairobi City County", "Nairobi"),
        ("ninaishi kaunti ya Kisumu", "Kisumu"),
        ("Naishi Nakuru", "Nakuru"),
        ("Mimi niko Eldoret town", "Uasin Gishu"),
        ("mji wa Mombasa", "Mombasa"),
        ("Kaunti ya Murang\u2019a", "Murang'a"),
        ("The county of Kakamega", "Kakamega"),
        ("Nyeri town", "Nyeri"),
        ("Kibera, Nairobi", "Nairobi"),
        ("Niko Kitengela, Kajiado", "Kajiado"),
        ("sisi wote tunaishi Kisumu", "Kisumu"),
        ("Waxaan ku noolahay Garissa", "Garissa"),
        ("Naishi Kakuma refugee camp", "Turkana"),
        ("I stay in Thika, Kenya.", "Kiambu"),
    ],
)
def test_filler_words_and_sentences(text: str, county: str) -> None:
    """English and Swahili filler is dropped; one county named in a sentence is enough."""
    assert match_county(text) == sure(county)


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("Nbi", "Nairobi"), ("NRB", "Nairobi"), ("Nai", "Nairobi"), ("Nairobbi", "Nairobi"),
        ("Msa", "Mombasa"), ("Mombasa", "Mombasa"), ("Ksm", "Kisumu"), ("Kisumo", "Kisumu"),
        ("Nku", "Nakuru"), ("Nak", "Nakuru"),
        ("Eldoret", "Uasin Gishu"),
        ("Thika", "Kiambu"), ("Ruiru", "Kiambu"), ("Juja", "Kiambu"), ("Kikuyu", "Kiambu"), ("Limuru", "Kiambu"),
        ("Githurai", "Kiambu"), ("Githurai 45", "Kiambu"),
        ("Kitale", "Trans Nzoia"),
        ("Malindi", "Kilifi"), ("Watamu", "Kilifi"), ("Mtwapa", "Kilifi"),
        ("Ukunda", "Kwale"), ("Diani", "Kwale"),
        ("Naivasha", "Nakuru"), ("Gilgil", "Nakuru"), ("Molo", "Nakuru"),
        ("Nanyuki", "Laikipia"), ("Rumuruti", "Laikipia"),
        ("Kitengela", "Kajiado"), ("Ngong", "Kajiado"), ("Ongata Rongai", "Kajiado"), ("Rongai", "Kajiado"),
        ("Namanga", "Kajiado"), ("Loitokitok", "Kajiado"),
        ("Athi River", "Machakos"), ("athiriver", "Machakos"), ("Mavoko", "Machakos"),
        ("Voi", "Taita Taveta"), ("Wundanyi", "Taita Taveta"),
        ("Lodwar", "Turkana"), ("Lokichoggio", "Turkana"), ("Kakuma", "Turkana"), ("Kalobeyei", "Turkana"),
        ("Dadaab", "Garissa"), ("Ifo", "Garissa"), ("Hagadera", "Garissa"), ("Dagahaley", "Garissa"),
        ("Kerugoya", "Kirinyaga"), ("Chuka", "Tharaka-Nithi"), ("Kapsabet", "Nandi"), ("Iten", "Elgeyo-Marakwet"),
        ("Kabarnet", "Baringo"), ("Maralal", "Samburu"), ("Kapenguria", "West Pokot"), ("Mbale", "Vihiga"),
        ("Webuye", "Bungoma"), ("Kimilili", "Bungoma"), ("Ol Kalou", "Nyandarua"), ("Olkalou", "Nyandarua"),
        ("Karatina", "Nyeri"), ("Othaya", "Nyeri"), ("Wote", "Makueni"), ("Mwingi", "Kitui"),
        ("Moyale", "Marsabit"), ("Hola", "Tana River"), ("Bondo", "Siaya"), ("Ugunja", "Siaya"),
        ("Mbita", "Homa Bay"), ("Rongo", "Migori"), ("Awendo", "Migori"), ("Keroka", "Kisii"),
        ("Ogembo", "Kisii"), ("Litein", "Kericho"), ("Sotik", "Bomet"), ("Mumias", "Kakamega"),
        ("Malaba", "Busia"),
        ("Kawangware", "Nairobi"), ("Kibera", "Nairobi"), ("Eastleigh", "Nairobi"), ("Kasarani", "Nairobi"),
        ("Embakasi", "Nairobi"), ("Westlands", "Nairobi"), ("South B", "Nairobi"),
        ("Nyahururu", "Laikipia"), ("Mtito Andei", "Makueni"), ("Nandi Hills", "Nandi"),
    ],
)
def test_abbreviations_nicknames_and_towns(text: str, county: str) -> None:
    """Abbreviations, nicknames, towns, estates and camps name their county."""
    assert match_county(text) == sure(county)


@pytest.mark.parametrize(
    ("text", "county"),
    [
        ("Nairob", "Nairobi"), ("nairobu", "Nairobi"), ("nayrobi", "Nairobi"), ("naiobi", "Nairobi"),
        ("Kiambo", "Kiambu"), ("kiamb", "Kiambu"), ("Nakur", "Nakuru"), ("nakru", "Nakuru"),
        ("Machakoss", "Machakos"), ("machako", "Machakos"), ("Kisuumu", "Kisumu"), ("kissumu", "Kisumu"),
        ("Kakamenga", "Kakamega"), ("kakameg", "Kakamega"), ("Turkan", "Turkana"), ("turkna", "Turkana"),
        ("mombas", "Mombasa"), ("mumbasa", "Mombasa"), ("garisa", "Garissa"), ("wajiri", "Wajir"),
        ("madera", "Mandera"), ("marsabet", "Marsabit"), ("kajado", "Kajiado"), ("vihga", "Vihiga"),
        ("siya", "Siaya"), ("bungma", "Bungoma"), ("samburo", "Samburu"), ("homabey", "Homa Bay"),
        ("homa bey", "Homa Bay"), ("kerichoo", "Kericho"), ("nyamra", "Nyamira"), ("meeru", "Meru"),
        ("kilfi", "Kilifi"), ("kirinyanga", "Kirinyaga"), ("laikipya", "Laikipia"), ("makweni", "Makueni"),
        ("migory", "Migori"), ("busya", "Busia"), ("kisi", "Kisii"), ("eldorett", "Uasin Gishu"),
        ("thikka", "Kiambu"), ("tana rivr", "Tana River"), ("uasin gishuu", "Uasin Gishu"),
        ("Nyer", "Nyeri"), ("nyeryi", "Nyeri"), ("Nairob county", "Nairobi"),
    ],
)
def test_typos_and_truncations_of_one_clear_county(text: str, county: str) -> None:
    """A close spelling with no other county near it is taken as sure."""
    assert match_county(text) == sure(county)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ki", {"Kisumu", "Kisii", "Kiambu", "Kilifi", "Kitui"}),
        ("Kis", {"Kisumu", "Kisii"}),
        ("ma", {"Machakos", "Makueni", "Mandera", "Marsabit"}),
        ("ny", {"Nyeri", "Nyandarua", "Nyamira"}),
        ("Nyam", {"Nyamira"}),
        ("mom", {"Mombasa"}),
        ("west", {"West Pokot", "Nairobi"}),
        ("lamo", {"Lamu"}),
        ("embo", {"Embu"}),
        ("kitali", {"Trans Nzoia", "Kitui"}),
        ("pokot", {"West Pokot"}),
        ("keriko", {"Kericho"}),
        ("kisumu or kisii", {"Kisumu", "Kisii"}),
        ("Naishi Kisumu, nafanya kazi Nairobi", {"Kisumu", "Nairobi"}),
        ("Naishi nakur bana", {"Nakuru"}),
    ],
)
def test_ambiguous_text_offers_candidates(text: str, expected: set[str]) -> None:
    """No county is picked; the likely ones are offered, distinct, at most five."""
    found = match_county(text)
    assert found.county is None
    assert expected <= set(found.candidates)
    assert len(found.candidates) <= 5
    assert len(set(found.candidates)) == len(found.candidates)


@pytest.mark.parametrize(
    ("text", "first"),
    [("Ki", "Kiambu"), ("Nyam", "Nyamira"), ("embo", "Embu"), ("kisumu or kisii", "Kisumu"), ("west", "West Pokot")],
)
def test_candidates_come_best_first(text: str, first: str) -> None:
    """The closest county leads the list; ties go to the bigger county; named ones keep the text's order."""
    assert match_county(text).candidates[0] == first


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "   \n\t", "pizza", "12345", "0", "1", "\U0001f600", "\U0001f600\U0001f44d\U0001f3fd", "?!...",
        "k", "hello", "hi", "ok", "yes", "no", "asante", "sijui", "sawa", "gulu", "Kenya", "county",
        "the city", "my name is John", "I am a boda boda rider", "delivery", "uber", "glovo", "bolt",
        "driver", "mama mboga", "\u0623\u0646\u0627 \u0623\u0639\u064a\u0634 \u0641\u064a \u0646\u064a\u0631\u0648\u0628\u064a",
        "\u4e1c\u4eac", "\u0928\u0948\u0930\u094b\u092c\u0940",
    ],
)
def test_junk_matches_nothing(text: str) -> None:
    """Nothing plausible gives neither a county nor candidates."""
    assert match_county(text) == NOTHING


@pytest.mark.parametrize("text", ["market", "uganda", "ten", "dada", "magharibi"])
def test_everyday_words_near_a_town_are_never_sure(text: str) -> None:
    """A word that merely resembles a town ("market", Marakwet) is at most offered."""
    assert match_county(text).county is None


def test_very_long_text_does_not_raise_and_still_finds_an_early_county() -> None:
    """1,600 characters of chat are cut short, not choked on."""
    assert match_county("x" * 1600) == NOTHING
    assert match_county("Nairobi " + "blah " * 320) == sure("Nairobi")
    assert match_county("\U0001f600" * 1600) == NOTHING


@pytest.mark.parametrize("county", sorted(ALIASES))
def test_every_alias_belongs_to_a_county_and_matches_it(county: str) -> None:
    """The alias table points at official names, and no alias is shadowed by another county's."""
    assert is_county(county)
    for alias in ALIASES[county]:
        assert match_county(alias) == sure(county), alias


LOOSE_TEXT = st.one_of(
    st.text(max_size=2000),
    st.text(alphabet="aeiounkmrsbtylgwhd '-", max_size=30),
    st.lists(
        st.sampled_from([*COUNTIES, *(a for aliases in ALIASES.values() for a in aliases), "ya", "county", "na"]),
        max_size=6,
    ).map(" ".join),
)


@settings(database=None, max_examples=300, deadline=None)
@given(LOOSE_TEXT)
def test_never_raises_and_only_returns_counties(text: str) -> None:
    """Any text gives a well-formed match whose counties are all official."""
    found = match_county(text)
    assert isinstance(found, CountyMatch)
    assert found.county is None or found.county in COUNTIES
    assert all(candidate in COUNTIES for candidate in found.candidates)
    assert len(found.candidates) <= 5
    assert len(set(found.candidates)) == len(found.candidates)
    assert not (found.county and found.candidates)
