"""How long MY DATA FILE's PDF takes to build (wall clock and CPU time), per language, for a member with a lot to show: eight courses,
four certificate reports, a voucher and ten questions of six lines each (the worker's cost per request).

Needs no database and no Redis: the data is the shape `bot.privacy.export.collect` returns, and the PDF is
built by the same function the job uses (fpdf2, shaped by HarfBuzz, in `PDF_FONT` or DejaVu Sans).

    .venv/bin/python bench/my_data_export.py [--runs 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402

from bot.core import i18n  # noqa: E402
from bot.privacy import export  # noqa: E402

LANGUAGES = ("en", "sw", "fr", "so", "ar")
SENTENCE = {
    "en": "I did three transcription jobs last month and the platform has not paid for the last one yet.",
    "sw": "Nilifanya kazi tatu za transcription mwezi uliopita na jukwaa bado halijalipa ya mwisho.",
    "fr": "J'ai fait trois travaux de transcription le mois dernier et la plateforme n'a pas encore payé le dernier.",
    "so": "Bishii hore waxaan qabtay saddex shaqo oo qoraal ah, madalkuna weli ma bixin tii ugu dambeysay.",
    "ar": "قمت بثلاث مهام نسخ الشهر الماضي ولم تدفع المنصة بعد ثمن المهمة الأخيرة.",
}


def heavy_member(lang: str) -> dict[str, object]:
    """A member with much to show, their own words in their language."""
    titles = {code: f"Career Essentials {n}" for n, code in enumerate(LANGUAGES)}
    return {
        "name": "Amina Wanjiku", "phone": "+254712345678", "user_id": None, "profile_name": "Mama Mboga",
        "member_number": "KUGWO-000123", "county": "Turkana", "work": ["transcription", "data_annotation"],
        "work_other": None, "gender": "woman", "community": "refugee", "language": i18n.autonym(lang),
        "joined_at": "2026-01-15", "consent_at": "2026-01-15", "consent_version": "2026-12", "opted_out": False,
        "messages": 412, "retention_days": 180, "tickets": 10, "enrolments": 8, "certificates": 4,
        "courses": [{"course": f"c{n}", "course_title": titles, "status": "verified", "enrolled_on": "2026-02-01"}
                    for n in range(8)],
        "certificate_reports": [{"course": f"c{n}", "course_title": titles, "status": "approved",
                                 "reported_on": "2026-03-01", "link": f"https://www.linkedin.com/learning/certificates/{n}abcdef123",
                                 "reason": None} for n in range(4)],
        "voucher": {"code": "LIP-AAA-111", "given_on": "2026-03-04", "expires_on": "2027-03-04"},
        "questions": [{"number": n, "opened_on": "2026-04-01", "status": "closed",
                       "lines": [{"from": "member" if i % 2 == 0 else "organiser", "text": SENTENCE[lang]}
                                 for i in range(6)]} for n in range(10)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="builds per language")
    args = parser.parse_args()
    app = Flask("bench")
    app.config.update(UNION_NAME="Kenya Union of Gig Workers", PDF_FONT="", TIMEZONE="Africa/Nairobi")
    figures: dict[str, str] = {}
    with app.app_context():
        export.as_pdf(heavy_member("en"), "en")  # the font is read once per process
        for lang in LANGUAGES:
            data = heavy_member(lang)
            times, cpu, size = [], [], 0
            for _ in range(args.runs):
                begin, begin_cpu = time.perf_counter(), time.process_time()
                size = len(export.as_pdf(data, lang))
                times.append((time.perf_counter() - begin) * 1000)
                cpu.append((time.process_time() - begin_cpu) * 1000)
            median, p95 = statistics.median(times), sorted(times)[max(int(len(times) * 0.95) - 1, 0)]
            print(f"{lang}: median {median:.0f} ms (CPU {statistics.median(cpu):.0f} ms), p95 {p95:.0f} ms, "
                  f"{size / 1024:.0f} KiB ({args.runs} builds)")
            figures[f"{lang}_ms"] = f"{median:.0f}"
            figures[f"{lang}_cpu_ms"] = f"{statistics.median(cpu):.0f}"
            figures[f"{lang}_kib"] = f"{size / 1024:.0f}"
    print("RESULT " + " ".join(f"{key}={value}" for key, value in figures.items()))


if __name__ == "__main__":
    main()
