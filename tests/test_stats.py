"""STATS on WhatsApp: the numbers, filters by county and kind of work, languages, roles and length."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.core.extensions import db
from bot.models import Member, MemberWork, utcnow
from bot.stats import languages
from bot.stats import service as stats
from bot.stats.area import refresh_language_stats
from tests.helpers.app import WhatsApp
from tests.helpers.staff import OFFICER, staff_phone

ORGANISER = "+254733100002"


def seed(app, rows: list[tuple[str, tuple[str, ...], str | None, str | None, int, bool]]) -> None:
    """Members as (county, kinds, gender, community, days since joining, opted out)."""
    now = utcnow()
    with app.app_context():
        for i, (county, kinds, gender, community, days, opted_out) in enumerate(rows):
            member = Member(phone=f"+2547100{i:05d}", name=f"Member {i}", county=county, gender=gender,
                            community=community, status="active", language="en",
                            joined_at=now - timedelta(days=days),
                            opted_out_at=now if opted_out else None)
            member.work_kinds = [MemberWork(kind=k) for k in kinds]
            db.session.add(member)
        db.session.add(Member(phone="+254710099999", status="prospect", county="Nairobi"))
        db.session.commit()


ROWS = [
    ("Nairobi", ("transcription", "data_annotation"), "woman", "refugee", 0, False),
    ("Nairobi", ("transcription",), "man", "host", 40, True),
    ("Nairobi", ("ride_delivery",), "woman", None, 100, False),
    ("Turkana", ("transcription",), "woman", "refugee", 1, False),
    ("Kiambu", ("content_creation",), None, "neither", 200, False),
]


def test_stats_counts_every_section(app, client):
    seed(app, ROWS)
    officer = staff_phone(app, client, OFFICER, "officer")
    reply = officer.says("STATS")
    assert "Union statistics" in reply
    assert "Members: 5 (active 4, opted out 1)" in reply
    # Five members: every group is under five, so no breakdown shows its number.
    assert "By county: Nairobi <5, Kiambu <5, Turkana <5" in reply
    assert "By kind of work: Transcription <5, " in reply and "Data annotation / AI training <5" in reply
    assert "By gender: Woman <5, Man <5, not given <5" in reply
    assert "Refugee <5" in reply and "Host community <5" in reply
    assert len(reply) <= 1600


def test_stats_breakdowns_show_groups_of_five_or_more_and_hide_smaller_ones(app, client):
    seed(app, ROWS + [("Nairobi", ("transcription",), "woman", "refugee", 3, False)] * 4)
    reply = staff_phone(app, client, OFFICER, "officer").says("STATS")
    assert "Members: 9 (active 8, opted out 1)" in reply  # a total is not a breakdown
    assert "By county: Nairobi 7, Kiambu <5, Turkana <5" in reply
    assert "By kind of work: Transcription 7, " in reply
    assert "By gender: Woman 7, Man <5, not given <5" in reply
    assert "Refugee 6" in reply and "Host community <5" in reply


def test_stats_filters_by_county_and_work_in_any_combination(app, client):
    seed(app, ROWS)
    officer = staff_phone(app, client, OFFICER, "officer")
    nairobi = officer.says("stats nairobi")
    assert "Union statistics for Nairobi" in nairobi and "Members: 3 (active 2, opted out 1)" in nairobi
    assert "By county" not in nairobi
    work = officer.says("STATS transcription")
    assert "Members: 3 " in work and "By county: Nairobi <5, Turkana <5" in work
    both = officer.says("STATS Nairobi transcription")
    assert "Union statistics for Nairobi, Transcription" in both and "Members: 2 " in both
    assert "Data annotation / AI training <5" in both  # the other kinds of the same members
    assert "do not know" in officer.says("STATS Ki")
    assert "do not know" in officer.says("STATS qqqqzzzz")


def test_stats_new_this_week_and_month(app, client):
    seed(app, ROWS)
    with app.app_context():
        t = stats.totals(stats.StatsFilter(), utcnow())
    assert t.total == 5 and t.opted_out == 1 and 1 <= t.new_week <= 2 and t.new_month >= t.new_week
    assert t.new_month <= 2


def test_stats_in_swahili_and_refused_for_organisers(app, client):
    seed(app, ROWS)
    officer = staff_phone(app, client, OFFICER, "officer", lang="sw")
    reply = officer.says("STATS")
    assert "Wanachama: 5" in reply
    organiser = staff_phone(app, client, ORGANISER, "organiser")
    refusal = organiser.says("STATS")
    assert "STATS is for officer only" in refusal and "Members:" not in refusal
    member = WhatsApp(client, "+254710000001")
    assert "Members:" not in member.says("STATS")


def test_stats_stays_one_message_with_every_county(app, client):
    from bot.privacy import service as privacy
    from flows.counties import COUNTIES

    seed(app, [(c, ("transcription", "other", "data_annotation"), "woman", "host", i, False)
               for i, c in enumerate(COUNTIES * 3)])
    with app.app_context():
        for member in db.session.scalars(sa.select(Member).where(Member.id % 3 == 0)):
            privacy.erase_member(member)
        db.session.commit()
    for lang, phone in (("en", OFFICER), ("sw", "+254733100003")):
        officer = staff_phone(app, client, phone, "officer", lang=lang)
        replies = officer.send("STATS")
        assert len(replies) == 1 and len(replies[0]) <= 1600, replies
        assert ("the rest 111" if lang == "en" else "wengine 111") in replies[0]  # erased members still counted
        assert ("data erased 47)" if lang == "en" else "waliofuta taarifa 47)") in replies[0]


def both_ways(f: stats.StatsFilter, now) -> tuple[tuple, tuple]:
    """The numbers from the running counts and counted live from the members tables."""
    tally = (stats.totals(f, now), stats.counts_by(Member.county, f), stats.counts_by(Member.gender, f),
             stats.counts_by(Member.community, f), stats.counts_by_work(f))
    live = (stats.live_totals(f, now), stats.live_counts_by(Member.county, f), stats.live_counts_by(Member.gender, f),
            stats.live_counts_by(Member.community, f), stats.live_counts_by_work(f))
    return tally, live


def test_running_counts_follow_every_change(app, client, whatsapp):
    import random

    with app.app_context():
        if not stats.tallied():
            pytest.skip("the running counts are kept by PostgreSQL triggers")

    from bot.members import service as member_service
    from bot.privacy import service as privacy
    from tests.helpers.signup import ENGLISH_HAPPY, play

    play(whatsapp, ENGLISH_HAPPY)  # a real sign-up through the webhook
    whatsapp.send("STOP")
    seed(app, ROWS)
    rng = random.Random(5)
    kinds = ["transcription", "data_annotation", "ride_delivery", "other"]
    filters = [stats.StatsFilter(), stats.StatsFilter(county="Nairobi"), stats.StatsFilter(work="transcription"),
               stats.StatsFilter(county="Nairobi", work="data_annotation")]
    with app.app_context():
        now = utcnow()
        for step in range(60):
            ids = list(db.session.scalars(sa.select(Member.id)))
            member = db.session.get(Member, rng.choice(ids))
            action = rng.choice(["register", "opt_out", "opt_in", "county", "delete", "work", "prospect", "erase"])
            if action == "register":
                member_service.register(member, name="X", county=rng.choice(["Nairobi", "Kisumu"]),
                                        work_kinds=tuple(rng.sample(kinds, rng.randint(1, 3))), work_other=None,
                                        gender=rng.choice(["woman", None]), community=None, now=now)
            elif action == "opt_out":
                member_service.opt_out(member, "test", now)
            elif action == "opt_in":
                member_service.opt_in(member, "test", now)
            elif action == "county":
                member.county = rng.choice(["Nairobi", "Turkana", None])
            elif action == "delete" and len(ids) > 3:
                db.session.delete(member)
            elif action == "work":
                member.work_kinds = [MemberWork(kind=k) for k in rng.sample(kinds, rng.randint(0, 2))]
            elif action == "prospect":
                member.status = "prospect"
            elif action == "erase":
                privacy.erase_member(member, now)
            db.session.commit()
            if step % 20 == 19:
                stats.compact_tallies()
            for f in filters:
                tally, live = both_ways(f, now)
                assert tally == live, (step, action, f)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(stats.MemberTally)) < 60
        assert stats.totals(stats.StatsFilter(), now).erased > 0


def test_members_erased_before_the_upgrade_are_counted_after_it(app):
    import sqlalchemy as sa
    from flask_migrate import downgrade, upgrade

    from bot.privacy import service as privacy

    with app.app_context():
        if not stats.tallied():
            pytest.skip("the running counts are kept by PostgreSQL triggers")
        seed(app, ROWS)
        downgrade(revision="0006")
        try:
            # Today's model on the schema of 0006: columns added to members since then are left unloaded.
            older = (sa.orm.defer(Member.wa_user_id), sa.orm.defer(Member.broadcasts_stopped_at))
            for member in db.session.scalars(sa.select(Member).where(Member.county == "Nairobi").options(*older)):
                # The member's own row as erasure leaves it (the other areas' hooks need later tables).
                privacy.erase_member_fields(member, utcnow())  # one of them opted out first
            db.session.commit()
        finally:
            db.session.remove()
            upgrade()
        now = utcnow()
        for f in (stats.StatsFilter(), stats.StatsFilter(work="transcription")):
            tally, live = both_ways(f, now)
            assert tally == live, f
        assert stats.totals(stats.StatsFilter(), now) == stats.Totals(5, 0, 3, *stats.new_members(stats.StatsFilter(), now))
        assert stats.counts_by(Member.county, stats.StatsFilter()) == [("Nairobi", 3), ("Kiambu", 1), ("Turkana", 1)]


def test_members_over_time_is_cumulative(app):
    seed(app, ROWS)  # joined today, 1, 40, 100 and 200 days ago
    with app.app_context():
        now = utcnow()
        series = stats.members_over_time(stats.StatsFilter(), months=12, now=now)
        assert len(series) == 12 and series[-1] == (now.strftime("%Y-%m"), 5)
        values = [n for _, n in series]
        assert values == sorted(values) and values[0] <= 1
        assert stats.members_over_time(stats.StatsFilter(county="Nairobi"), months=12, now=now)[-1][1] == 3


TOWN_ROWS = [
    ("Mombasa", ("ride_delivery",), "man", None, 3, False),
    ("Mombasa", ("online_freelancing",), "woman", None, 3, False),
    ("Uasin Gishu", ("online_freelancing", "transcription"), "woman", None, 3, False),
    ("Uasin Gishu", ("ride_delivery",), "man", None, 3, False),
    ("Nairobi", ("ride_delivery",), "man", None, 3, False),
]


@pytest.mark.parametrize(("typed", "heading", "members"), [
    ("mombasa", "Union statistics for Mombasa", 2),
    ("Msa", "Union statistics for Mombasa", 2),
    ("Eldoret", "Union statistics for Uasin Gishu", 2),
    ("delivery", "Union statistics for Ride-hailing or delivery", 3),
    ("boda boda", "Union statistics for Ride-hailing or delivery", 3),
    ("ride-hailing Msa", "Union statistics for Mombasa, Ride-hailing or delivery", 1),
    ("freelancing in Eldoret", "Union statistics for Uasin Gishu, Online freelancing", 1),
    ("Eldoret riders", "Union statistics for Uasin Gishu, Ride-hailing or delivery", 1),
])
def test_stats_understands_towns_abbreviations_and_words_for_the_work(app, client, typed, heading, members):
    seed(app, TOWN_ROWS)
    reply = staff_phone(app, client, OFFICER, "officer").says(f"STATS {typed}")
    assert reply.startswith(heading) and f"Members: {members} " in reply, reply


def test_stats_refuses_what_it_does_not_understand_and_says_what_it_did(app, client):
    seed(app, TOWN_ROWS)
    officer = staff_phone(app, client, OFFICER, "officer")
    assert officer.says("STATS Eldoret freelancin").splitlines() == [
        "I understood county Uasin Gishu.",
        'I do not know "freelancin": did you mean Online freelancing (Upwork, Fiverr and the like)?',
        "Try STATS, STATS Nairobi, STATS transcription or STATS Nairobi transcription."]
    assert officer.says("STATS Nairobi blah").splitlines()[:2] == ["I understood county Nairobi.",
                                                                    'I do not know "blah".']
    assert "STATS takes one county and one kind of work; you named county Nairobi, county Mombasa." in officer.says(
        "STATS Nairobi Mombasa")
    assert "Members:" not in officer.says("STATS transcripton")


def test_stats_in_swahili_understands_and_refuses_in_swahili(app, client):
    seed(app, TOWN_ROWS)
    afisa = staff_phone(app, client, OFFICER, "officer", "sw")
    assert afisa.says("STATS bodaboda Msa").startswith("Takwimu za chama za Mombasa, Usafiri kwa apu")
    assert afisa.says("STATS kazi za mtandaoni Eldoret").startswith("Takwimu za chama za Uasin Gishu, Kazi huru mtandaoni")
    assert afisa.says("STATS Eldoret freelancin").splitlines() == [
        "Nimeelewa kaunti ya Uasin Gishu.",
        'Sielewi "freelancin": ulimaanisha Kazi huru mtandaoni (Upwork, Fiverr na kadhalika)?',
        "Jaribu STATS, STATS Nairobi, STATS transcription au STATS Nairobi transcription."]


def test_stats_by_language_hides_groups_under_five(app, client):
    now = utcnow()
    spoken = ["sw"] * 6 + ["en"] * 5 + ["fr"] * 2 + ["ar"]
    with app.app_context():
        for i, lang in enumerate(spoken):
            db.session.add(Member(phone=f"+2547200{i:05d}", name=f"Member {i}", status="active", language=lang,
                                  county="Turkana" if i % 2 else "Nairobi", joined_at=now - timedelta(days=i)))
        db.session.add(Member(phone="+254720099999", status="prospect", language="so"))  # not a member yet
        db.session.commit()
    officer = staff_phone(app, client, OFFICER, "officer")
    reply = officer.says("STATS")
    assert "By language: Kiswahili 6, English 5, Français <5, العربية <5" in reply
    assert "Soomaali" not in reply
    assert "By language: Kiswahili <5, English <5, العربية <5, Français <5" in officer.says("STATS Turkana")
    mswahili = staff_phone(app, client, "+254733100003", "officer", lang="sw")
    assert "Kwa lugha: Kiswahili 6, English 5, Français <5, العربية <5" in mswahili.says("STATS")
    with app.app_context():
        assert languages.counts_by_language(stats.StatsFilter(county="Turkana")) == [("sw", 3), ("en", 2), ("ar", 1),
                                                                                ("fr", 1)]
        db.session.add(Member(phone="+254720088888", status="active", language="sw", joined_at=now))
        db.session.commit()
    assert "Kiswahili 6," in officer.says("STATS")  # the snapshot the clock counts, until it counts again
    with app.app_context():
        refresh_language_stats()
    assert "By language: Kiswahili 7, English 5" in officer.says("STATS")
