"""The choices in French, Somali and Arabic, as transcripts: the sign-up lists (kind of work, gender, community),
the course list and the yes/no questions, each answered by its label, by a synonym and loosely spelt."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.courses.service import SAMPLE_CATALOG, read_catalog
from flows.effects import Enrol, OptOut, RegisterMember
from tests.helpers.transcript import MEMBER, Chat, Script, play

TO_WORK: dict[str, Script] = {
    "fr": [("Bonjour", ["pouvons-nous garder vos informations"]), ("oui", ["Quel est votre nom complet"]),
           ("Amina Wanjiku", ["Dans quel comté vivez-vous"]), ("Nairobi", ["Quel type de travail faites-vous"])],
    "so": [("Iska warran", ["Ku jawaab HAA"]), ("haa", []), ("Amina Wanjiku", []),
           ("Garissa", ["1. Codka oo qoraal loo beddelo (transcription)"])],
    "ar": [("مرحبا", ["أرسل *نعم*"]), ("نعم", []), ("أمينة", []), ("Kakuma", ["صناعة المحتوى"])],
}


def to_work(lang: str) -> Chat:
    """A new contact in a language, at the question about the kind of work."""
    chat = play(Chat(), TO_WORK[lang])
    assert chat.lang == lang and chat.state is not None and chat.state.step == "work"
    return chat


def registered(chat: Chat) -> RegisterMember:
    [effect] = chat.of(RegisterMember)
    assert isinstance(effect, RegisterMember)
    return effect


# (label, synonym, loosely spelt) for one kind of work, then the answers to sensitive, gender, community, and what
# the summary's YES is in the language.
SIGN_UPS = {
    "fr": {
        "work": [("Création de contenu", ["content_creation"]), ("livreur", ["ride_delivery"]),
                 ("annotation de donees", ["data_annotation"]), ("transcription et livraison",
                                                                  ["transcription", "ride_delivery"])],
        "answers": [("oui", "Quel est votre sexe"), ("femme", "réfugié(e)"), ("communaute d acceuil", "Vérifiez"),
                    ("oui", "")],
        "gender": "woman", "community": "host",
    },
    "so": {
        "work": [("samaynta content", ["content_creation"]), ("darawal", ["ride_delivery"]), ("calamadaynta xogta", ["data_annotation"]),
                 ("bajaaj iyo kaaliye online ah", ["virtual_assistance", "ride_delivery"])],
        "answers": [("haa", "Jinsigaagu waa maxay?"), ("naag", "qaxooti"), ("qaxooti", "Fadlan hubi xogtaada"),
                    ("haa", "")],
        "gender": "woman", "community": "refugee",
    },
    "ar": {
        "work": [("صناعة المحتوى", ["content_creation"]), ("مندوب توصيل", ["ride_delivery"]),
                 ("تفريق صوتي", ["transcription"]), ("عمل حر و وسم البيانات", ["data_annotation", "online_freelancing"])],
        "answers": [("نعم", "رجل"), ("ذكر", "لاجئ"), ("المجتمع المضيف", "من فضلك تأكد من بياناتك"), ("نعم", "")],
        "gender": "man", "community": "host",
    },
}


@pytest.mark.parametrize("lang", ["fr", "so", "ar"])
def test_kinds_of_work_by_label_synonym_loose_spelling_and_several(lang):
    for said, kinds in SIGN_UPS[lang]["work"]:
        chat = play(to_work(lang), [(said, [])])
        assert chat.state is not None and chat.state.step == "sensitive", (lang, said)
        assert sorted(chat.state.data["work"]) == sorted(kinds), (lang, said)


@pytest.mark.parametrize("lang", ["fr", "so", "ar"])
def test_sign_up_in_the_language_answered_in_words(lang):
    plan = SIGN_UPS[lang]
    said, _ = plan["work"][0]
    chat = play(to_work(lang), [(said, []), *((answer, [expected] if expected else []) for answer, expected
                                              in plan["answers"])])
    member = registered(chat)
    assert (member.gender, member.community) == (plan["gender"], plan["community"])


GENDER_WORDS = {
    "fr": [("Homme", "man"), ("masculin", "man"), ("fème", "woman"), ("je prefere ne pas repondre", "undisclosed")],
    "so": [("Nin", "man"), ("dumar", "woman"), ("haweenay", "woman"), ("ma rabo inaan sheegoo", "undisclosed")],
    "ar": [("امرأة", "woman"), ("انثى", "woman"), ("أفضل عدم الاجابة", "undisclosed"), ("رجل", "man")],
}
SENSITIVE_YES = {"fr": "ouais", "so": "haa", "ar": "ايوه"}


@pytest.mark.parametrize("lang", ["fr", "so", "ar"])
def test_gender_by_label_synonym_and_loose_spelling(lang):
    work = SIGN_UPS[lang]["work"][0][0]
    for said, gender in GENDER_WORDS[lang]:
        chat = play(to_work(lang), [(work, []), (SENSITIVE_YES[lang], []), (said, [])])
        assert chat.state is not None and chat.state.step == "community", (lang, said)
        assert chat.state.data["gender"] == gender, (lang, said)


COURSES = [
    {"id": n, "slug": slug, "url": f"https://example.org/{slug}", "hours": 5.0, "titles": titles,
     "summaries": {"en": "One line."}}
    for n, (slug, titles) in enumerate([
        ("generative-ai", {"en": "Generative AI", "fr": "IA générative (Generative AI)",
                           "so": "AI-ga wax soo saara (Generative AI)", "ar": "الذكاء الاصطناعي التوليدي (Generative AI)"}),
        ("data-analysis", {"en": "Data Analysis", "fr": "Analyse de données (Data Analysis)",
                           "so": "Falanqaynta xogta (Data Analysis)", "ar": "تحليل البيانات (Data Analysis)"}),
        ("project-management", {"en": "Project Management", "fr": "Gestion de projet (Project Management)",
                                "so": "Maaraynta mashruuca (Project Management)",
                                "ar": "إدارة المشاريع (Project Management)"}),
    ], 1)
]
LEARNER = replace(MEMBER, facts={"courses": COURSES, "enrolments": []})
# The courses keyword, then a course by its title, by the title loosely spelt, and the yes and no of enrolling.
COURSE_ANSWERS = {
    "fr": ("cours", [("analyse de données", 2), ("gestion de projet", 3), ("IA generatve", 1)], "oui", "non"),
    "so": ("koorsooyin", [("falanqaynta xogta", 2), ("maareynta mashruuca", 3), ("Generative AI", 1)], "haa", "maya"),
    "ar": ("دورات", [("تحليل البيانات", 2), ("ادارة المشاريع", 3), ("الذكاء الاصطناعي", 1)], "نعم", "لا"),
}


@pytest.mark.parametrize("lang", ["fr", "so", "ar"])
def test_a_course_by_its_title_or_loosely_spelt_then_yes_or_no(lang):
    keyword, titles, yes, no = COURSE_ANSWERS[lang]
    for said, course_id in titles:
        chat = play(Chat(lang=lang, member=LEARNER, first_contact=False), [(keyword, []), (said, [])])
        assert chat.state is not None and chat.state.step == "confirm", (lang, said)
        assert chat.state.data["course_id"] == course_id, (lang, said)
    chat = play(Chat(lang=lang, member=LEARNER, first_contact=False), [(keyword, []), ("2", []), (no, [])])
    assert chat.state is not None and chat.state.step == "list" and not chat.of(Enrol)
    play(chat, [("2", []), (yes, [])])
    assert chat.of(Enrol) == [Enrol(2)]


# ENOUGH at the menu in each language, the stop question's labels, then a yes by label, by word and loosely spelt.
STOPPING = {
    "fr": ("ça suffit", "1. Oui, arrêter tous les messages", ["oui", "Oui, arrêter tous les messages", "d'accord",
                                                            "ouii"], ["non", "non merci", "pas daccord", "non mercii"]),
    "so": ("iska dhaaf", "1. Haa, jooji dhammaan fariimaha", ["haa", "haye", "waan ogolahay", "hagaa"],
           ["maya", "maaya", "ma rabo"]),
    "ar": ("خلاص", "نعم، أوقفوا كل الرسائل", ["نعم", "ايوه", "موافق", "موافقة"], ["لا", "لا شكرا", "كلا"]),
}


@pytest.mark.parametrize("lang", ["fr", "so", "ar"])
def test_the_stop_question_by_label_word_and_loose_spelling(lang):
    enough, label, yeses, noes = STOPPING[lang]
    for said in yeses:
        chat = play(Chat(lang=lang, member=MEMBER, first_contact=False), [(enough, [label]), (said, [])])
        assert chat.of(OptOut) == [OptOut()], (lang, said)
    for said in noes:
        chat = play(Chat(lang=lang, member=MEMBER, first_contact=False), [(enough, [label]), (said, [])])
        assert not chat.of(OptOut) and chat.state is not None and chat.state.step == "choose", (lang, said)


def sample_catalog() -> list[dict]:
    """The sample catalog (data/courses.csv) as the flows get it, with each course's words."""
    return [{**row, "id": n} for n, row in enumerate(read_catalog(SAMPLE_CATALOG), 1)]


# The catalog's words for a course, in each language: (the courses keyword, what the member types, the slug chosen).
COURSE_WORDS = [
    ("en", "courses", "excel", "data-analysis"), ("en", "courses", "chatgpt", "generative-ai"),
    ("en", "courses", "programing", "software-development"), ("en", "courses", "uchambuzi wa data", "data-analysis"),
    ("sw", "kozi", "kompyuta", "system-administration"), ("sw", "kozi", "kazi za ofisi", "administrative-support"),
    ("sw", "kozi", "akili bandia", "generative-ai"),
    ("fr", "cours", "tableur", "data-analysis"), ("fr", "cours", "programation", "software-development"),
    ("so", "koorsooyin", "barnaamij", "software-development"), ("so", "koorsooyin", "mashruuc", "project-management"),
    ("ar", "دورات", "برمجة", "software-development"), ("ar", "دورات", "اكسل", "data-analysis"),
]


@pytest.mark.parametrize(("lang", "keyword", "said", "slug"), COURSE_WORDS)
def test_a_course_by_the_catalog_s_words_for_it(lang, keyword, said, slug):
    courses = sample_catalog()
    member = replace(MEMBER, facts={"courses": courses, "enrolments": []})
    chat = play(Chat(lang=lang, member=member, first_contact=False), [(keyword, []), (said, [])])
    assert chat.state is not None and chat.state.step == "confirm", (lang, said)
    chosen = next(c for c in courses if c["id"] == chat.state.data["course_id"])
    assert chosen["slug"] == slug, (lang, said)
