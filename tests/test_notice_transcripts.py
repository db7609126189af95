"""Pure transcripts of the layered privacy notice (no database): the short notice with the age in the consent
answer, PRIVACY / FARAGHA at the consent step and from the menu, the separate question before the sensitive
data answered yes and no, someone under 18 and a refusal, in English and Swahili."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core import i18n
from bot.core.i18n import MAX_WHATSAPP_CHARS
from flows import privacy, router
from flows.base import Ctx, Effect, MemberView, Settings, State
from flows.effects import ForgetContact, RecordConsent, RecordSensitiveChoice, RegisterMember
from tests.helpers.transcript import Chat, Script, play

SETTINGS = Settings(union_name="Kenya Union of Gig Workers", retention_days=180)


def converse(script: Script, lang: str, *, member: MemberView | None = None, state: State | None = None,
             settings: Settings = SETTINGS) -> tuple[list[Effect], State | None]:
    """Play a person's messages through the router; check each reply; return the effects and the last state."""
    chat = play(Chat(lang=lang, member=member or MemberView(), settings=settings, state=state,
                     first_contact=state is None), script)
    return chat.effects, chat.state


SHORT_NOTICE = {
    "en": ["may we keep your details?", "Kenya Union of Gig Workers keeps your phone number", "Joining is voluntary.",
           "(MY DATA)", "(DELETE MY DATA)", "(STOP)", "Send PRIVACY for the full notice",
           "Reply YES if you are 18 or older and agree.", "1. Yes, I am 18 or older and I agree", "2. No",
           "3. I am under 18"],
    "sw": ["tunaomba ruhusa kuhifadhi taarifa zako", "Kujiunga ni kwa hiari yako.", "(TAARIFA ZANGU)",
           "(FUTA TAARIFA ZANGU)", "(ACHA)", "Tuma FARAGHA upate taarifa kamili",
           "Jibu NDIYO kama una miaka 18 au zaidi na unakubali.", "1. Ndiyo, nina miaka 18 au zaidi na nakubali",
           "2. Hapana", "3. Niko chini ya miaka 18"],
}
FULL_NOTICE = {
    "en": ["PRIVACY NOTICE (1/3)", "Kenya Union of Gig Workers is responsible for your data",
           "ask an organiser: send AGENT", "WhatsApp name", "deleted after 180 days", "vouchers",
           "reports to government and partners", "Twilio, in the United States", "WhatsApp (Meta)",
           "may leave Kenya", "protected by a password", "see your data: send MY DATA",
           "correct your data", "delete your data: send DELETE MY DATA", "object to a use of your data",
           "a copy of your data to take elsewhere: send MY DATA FILE", "withdraw your consent at any time: send STOP",
           "Office of the Data Protection Commissioner", "If you do not agree, you cannot become a member"],
    "sw": ["TAARIFA YA FARAGHA (1/3)", "uliza afisa wa chama: tuma MTU", "jina lako la WhatsApp",
           "hufutwa baada ya siku 180", "Twilio, ya Marekani", "nje ya Kenya", "tuma TAARIFA ZANGU",
           "tuma FAILI YA DATA YANGU",
           "tuma FUTA TAARIFA ZANGU", "kupinga matumizi", "kuondoa ruhusa yako wakati wowote: tuma ACHA",
           "Ofisi ya Kamishna wa Kulinda Data", "Usipokubali, huwezi kuwa mwanachama"],
}
GREETING = {"en": "Hi", "sw": "Habari"}
PRIVACY_WORD = {"en": "PRIVACY", "sw": "faragha"}


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_the_short_notice_asks_consent_and_age_in_one_answer(lang):
    effects, state = converse([(GREETING[lang], SHORT_NOTICE[lang])], lang)
    assert state is not None and (state.flow, state.step) == ("signup", "consent") and effects == []


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_privacy_at_the_consent_step_sends_the_full_notice_without_consenting(lang):
    effects, state = converse([(GREETING[lang], []), (PRIVACY_WORD[lang], FULL_NOTICE[lang] + SHORT_NOTICE[lang][:1])],
                              lang)
    assert state is not None and (state.flow, state.step) == ("signup", "consent")
    assert not any(isinstance(effect, RecordConsent) for effect in effects)


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_privacy_from_the_menu_and_every_part_fits_one_whatsapp_message(lang):
    member = MemberView(is_member=True, status="active", name="Amina", member_number="KUGWO-000001")
    menu_reply = {"en": "Privacy notice", "sw": "Taarifa ya faragha"}[lang]
    converse([("MENU", [menu_reply])], lang, member=member)
    ctx = Ctx(member=member, lang=lang, now=datetime(2026, 12, 3, 9), settings=SETTINGS)
    items = router.items_for(ctx)
    number = next(n for n, item in enumerate(items, 1) if item.flow == privacy.NAME)
    _, state = converse([(str(number), FULL_NOTICE[lang])], lang, member=member, state=router.menu(ctx).state)
    assert state is None
    for reply in privacy.full_notice(ctx):
        rendered = i18n.render_reply(lang, reply)
        assert len(rendered) == 1 and len(rendered[0]) <= MAX_WHATSAPP_CHARS, (lang, [len(r) for r in rendered])


def test_the_notice_names_the_configured_controller_and_contact():
    settings = Settings(union_name="KUGWO", data_controller="KUGWO Trustees", data_protection_contact="dpo@kugwo.example",
                        retention_days=90)
    converse([("Hi", []), ("PRIVACY", ["KUGWO Trustees is responsible for your data", "dpo@kugwo.example",
                                       "deleted after 90 days"])], "en", settings=settings)


SIGN_UP_TO_SENSITIVE = {
    "en": [("Hi", []), ("1", ["What is your full name?"]), ("Amina Wanjiku", []), ("Nairobi", []),
           ("2", ["The law treats these as sensitive data", "counts women, refugees and host communities",
                  "Saying no changes nothing else.", "1. Yes, ask me", "2. No, skip them"])],
    "sw": [("Habari", []), ("ndio", ["Jina lako kamili ni nani?"]), ("Baraka Otieno", []), ("Kakuma", []),
           ("5", ["Sheria inaziona hizi kuwa taarifa nyeti", "1. Ndiyo, niulize", "2. Hapana, ruka"])],
}


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_sensitive_questions_answered_yes(lang):
    yes = {"en": [("yes", ["What is your gender?"]), ("1", ["refugee"]), ("2", ["Please check your details:"]),
                  ("yes", ["KUGWO-000001"])],
           "sw": [("ndio", ["Jinsia yako ni ipi?"]), ("2", ["mkimbizi"]), ("1", ["Tafadhali hakikisha taarifa zako:"]),
                  ("ndio", ["KUGWO-000001"])]}[lang]
    effects, _ = converse(SIGN_UP_TO_SENSITIVE[lang] + yes, lang)
    assert RecordSensitiveChoice(agreed=True) in effects
    registered = next(effect for effect in effects if isinstance(effect, RegisterMember))
    assert registered.gender in ("woman", "man") and registered.community in ("refugee", "host")


@pytest.mark.parametrize("lang", ["en", "sw"])
def test_sensitive_questions_answered_no_skip_both_and_are_recorded(lang):
    no = {"en": [("no", ["Please check your details:", "4. Gender: not given", "5. Community: not given"]),
                 ("4", ["May we ask them?"]), ("2", ["Please check your details:"]), ("yes", ["KUGWO-000001"])],
          "sw": [("2", ["Tafadhali hakikisha taarifa zako:"]), ("ndio", ["KUGWO-000001"])]}[lang]
    effects, _ = converse(SIGN_UP_TO_SENSITIVE[lang] + no, lang)
    assert RecordSensitiveChoice(agreed=False) in effects
    registered = next(effect for effect in effects if isinstance(effect, RegisterMember))
    assert (registered.gender, registered.community) == (None, None)


UNDER_18 = {
    "en": [("Hi", []), ("3", ["You must be 18 or older to join", "cannot join yet", "We have deleted your phone number",
                              "when you turn 18"])],
    "sw": [("Habari", []), ("niko chini ya 18", ["Lazima uwe na miaka 18 au zaidi", "huwezi kujiunga bado",
                                                  "Tumefuta nambari yako ya simu"])],
}
REFUSAL = {
    "en": [("Hi", []), ("2", ["We have deleted your phone number", "you cannot become a member", "Send JOIN",
                              "PRIVACY"])],
    "sw": [("Habari", []), ("hapana", ["Tumefuta nambari yako ya simu", "huwezi kuwa mwanachama", "JIUNGE",
                                        "FARAGHA"])],
}


@pytest.mark.parametrize("lang", ["en", "sw"])
@pytest.mark.parametrize("script", [UNDER_18, REFUSAL], ids=["under_18", "refusal"])
def test_under_18_and_refusal_end_sign_up_without_consent(lang, script):
    effects, state = converse(script[lang], lang)
    assert state is None and not any(isinstance(effect, RecordConsent | RegisterMember) for effect in effects)
    assert ForgetContact() in effects  # nothing about the person is kept
