"""Words the bot understands in every language, kept in the catalogs so translators can extend them.

Each entry is a msgid whose English text lists the words, separated by '|'; its translation lists the
words in that language. The engine recognises the words of every language at once, so a member who
writes in Swahili is understood even while the bot speaks English.
"""

from __future__ import annotations

from flows.base import N_
from flows.language import LANGUAGE_NAMES

# Translators: each of these is a list of whole messages separated by '|'. Write the words members
# really type, in capitals; keep the English words out of the translation (they always work).
GLOBAL_KEYWORDS: dict[str, str] = {
    "menu": N_("MENU|MAIN MENU|HOME|00"),
    "help": N_("HELP|INFO"),
    "stop": N_("STOP|UNSUBSCRIBE|STOP ALL|OPT OUT|STOPALL"),
    "start": N_("START|UNSTOP|SUBSCRIBE|RESUME"),
    "language": N_("LANGUAGE|LANG"),
    "back": N_("BACK|PREVIOUS|GO BACK"),
    "cancel": N_("CANCEL|QUIT|EXIT"),
    "privacy": N_("PRIVACY|PRIVACY NOTICE|PRIVACY POLICY|FULL NOTICE"),
    # Words that mean "never mind" inside a flow but may mean "stop the messages" at the menu: they
    # cancel a flow, and at the menu ask before stopping anything.
    "cancel_or_stop": N_("ENOUGH|STOP IT"),
    # A language's names (in any language) switch to it directly.
    **{f"language:{code}": words for code, words in LANGUAGE_NAMES.items()},
}

INTENTS: dict[str, str] = {
    "yes": N_("YES|Y|OK|OKAY|OKEY|AGREE|I AGREE|SURE|CONFIRM|YES PLEASE|YEAH|YAP|YEP"),
    "no": N_("NO|N|NOPE|NAH|DISAGREE|I DO NOT AGREE|NO THANKS"),
    "skip": N_("SKIP|PASS"),
    "under_18": N_("UNDER 18|I AM UNDER 18|I AM NOT 18|MINOR"),
    "join": N_("JOIN|REGISTER|SIGN UP|SIGNUP|MEMBERSHIP|JOIN UNION|I WANT TO JOIN|REGISTRATION"),
    "greeting": N_("HI|HELLO|HEY|HELLO THERE|HI THERE|GOOD MORNING|GOOD AFTERNOON|GOOD EVENING|HOLA|HALLO|HELO|"
                   "HELLOO|HEY THERE|GOOD NIGHT|MORNING|HOW ARE YOU|HOW ARE U|HOW R U|SALAM|SALAAM|SALAM ALEIKUM|"
                   "ASALAAM ALEIKUM|ASSALAMU ALAIKUM"),
    "thanks": N_("THANKS|THANK YOU|THANK YOU SO MUCH|THANK YOU VERY MUCH|THANKS A LOT|MANY THANKS|TNX|THX|THANX|"
                 "THANKS FOR THE HELP|THANK YOU FOR THE HELP|THANKS FOR YOUR HELP|THANK YOU FOR YOUR HELP|TY|OK|OKAY|OKEY|OKAY THEN|NOTED|NICE|GREAT|COOL|FINE|ALRIGHT|ALL RIGHT|GOOD|VERY GOOD|AWESOME|"
                 "I AM FINE|IM FINE|BLESSED|GOD BLESS"),
    "question": N_("QUESTION|ASK|ASK A QUESTION|I HAVE A QUESTION|FAQ"),
    "agent": N_("AGENT|HUMAN|PERSON|ORGANISER|ORGANIZER|TALK TO A PERSON|SPEAK TO A PERSON|REAL PERSON|CUSTOMER CARE|"
                "CUSTOMER SERVICE|OFFICER|OFFICE"),
    "call_me": N_("CALL ME|PLEASE CALL ME|CALL ME BACK|CALL ME PLEASE"),
    "mydata": N_("MY DATA|MYDATA|MY DETAILS|MY INFORMATION|MEMBER NUMBER|MY MEMBER NUMBER|MY NUMBER"),
    "mydata_file": N_("MY DATA FILE|MY DATA AS A FILE|MY DATA PDF|MY DATA DOCUMENT|DOWNLOAD MY DATA|EXPORT MY DATA"),
    "delete_data": N_("DELETE MY DATA|DELETE MY DETAILS|ERASE MY DATA|DELETE ME|DELETE MY ACCOUNT"),
    "courses": N_("COURSES|COURSE|FREE COURSES|LEARN|TRAINING|TRAININGS|CLASSES|LINKEDIN|LINKEDIN LEARNING"),
    "mycourses": N_("MY COURSES|MY COURSE|VOUCHER|MY VOUCHER|PREMIUM|LINKEDIN PREMIUM"),
    "certificate": N_("CERTIFICATE|CERT|REPORT CERTIFICATE|MY CERTIFICATE|I FINISHED|I FINISHED THE COURSE|"
                      "I HAVE FINISHED|DONE WITH THE COURSE"),
}

# Greetings members of every language send alike (Arabic greetings in Latin letters): greetings that tell no
# language (only Arabic script tells Arabic). Not for translation: they are the same in every language.
SHARED_GREETINGS = "SALAM|SALAAM|SALAM ALEIKUM|SALAAM ALEIKUM|SALAM ALAIKUM|SALAAM ALAIKUM|ASALAAM ALEIKUM|" \
    "ASALAM ALEIKUM|ASSALAMU ALAIKUM|ASSALAM ALAIKUM|SALAMU ALEIKUM|SALAMU ALAIKUM|ASC"

# Intents matched on the first word too ("Hi there, I want to join" is a greeting).
FIRST_WORD_INTENTS = frozenset({"greeting", "join", "yes", "no", "mycourses"})

# Small talk: a message made only of these intents' phrases ("ok thanks", "Habari, asante sana") also
# means "smalltalk": a courtesy to answer kindly, never a question for the FAQ or a ticket.
SMALL_TALK_INTENTS = frozenset({"greeting", "thanks"})
