"""Every number in the digest, against histories built through the use cases with a frozen clock.

The expected values are literals counted by hand from the story each test tells (the comments say
how); nothing here recomputes them the way `commands.digest.compute` does.
"""

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from commands.deals.deal import MarkLost, NewDeal, create_deal, mark_lost
from commands.deals.evidence import Evidence
from commands.deals.moves import Advance, decide_move, request_move
from commands.deals.results import MoveRequested
from commands.digest.compute import compute_digest, local_midnight, period_ending
from commands.digest.report import Conversion, Digest, Listing, StalledLine
from commands.services import Actor, Services
from tests.conftest import MANAGER, OTHER_MANAGER, OTHER_REP, REP, Clock

TEAM = "T1"
OTHER_TEAM = "T2"
NEW_YORK = "America/New_York"
STAGES = (
    "meeting-booked",
    "needs-confirmed",
    "product-evaluated",
    "proposal-received",
    "contract-signed",
    "implementation-started",
    "live",
)


def utc(month: int, day: int, hour: int = 9, minute: int = 0, *, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def new_york(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ZoneInfo(NEW_YORK)).astimezone(UTC)


class History:
    """Tells a workspace's story through the real use cases, each step at the moment it names.

    Each deal's story is told in its own order, so the clock only runs forward within one deal.
    """

    def __init__(self, services: Services, clock: Clock, team_id: str = TEAM) -> None:
        self.services = services
        self.clock = clock
        self.team_id = team_id

    def _at(self, when: datetime) -> None:
        self.clock.now = when

    def create(self, when: datetime, name: str, value_cents: int | None, *, owner: str = REP) -> int:
        self._at(when)
        deal = create_deal(
            self.services,
            Actor(self.team_id, owner),
            channel_id="C1",
            command=NewDeal(name=name, value_cents=value_cents, company=None, evidence=()),
        )
        return deal.number

    def request(
        self,
        number: int,
        when: datetime,
        *,
        to: str | None = None,
        links: int = 1,
        evidence: tuple[Evidence, ...] | None = None,
        by: str = REP,
    ) -> int:
        self._at(when)
        if evidence is None:
            evidence = tuple(
                Evidence(f"https://mail.example.com/{self.team_id}/{number}/{when:%m%d%H%M}/{i}") for i in range(links)
            )
        requested = request_move(
            self.services, Actor(self.team_id, by), Advance(deal_number=number, evidence=evidence, to_key=to, note=None)
        )
        assert isinstance(requested, MoveRequested)
        return requested.move.id

    def decide(
        self, move_id: int, when: datetime, *, by: str = MANAGER, approve: bool = True, reason: str | None = None
    ) -> None:
        self._at(when)
        decide_move(self.services, Actor(self.team_id, by), move_id=move_id, approve=approve, reason=reason)

    def advance(
        self,
        number: int,
        requested: datetime,
        decided: datetime,
        *,
        to: str | None = None,
        links: int = 1,
        evidence: tuple[Evidence, ...] | None = None,
        by: str = REP,
        decider: str = MANAGER,
        approve: bool = True,
        reason: str | None = None,
    ) -> None:
        move_id = self.request(number, requested, to=to, links=links, evidence=evidence, by=by)
        self.decide(move_id, decided, by=decider, approve=approve, reason=reason)

    def back(self, number: int, when: datetime, to: str, note: str, *, by: str = REP) -> None:
        self._at(when)
        request_move(
            self.services, Actor(self.team_id, by), Advance(deal_number=number, evidence=(), to_key=to, note=note)
        )

    def lose(self, number: int, when: datetime, reason: str, *, by: str = REP) -> None:
        self._at(when)
        mark_lost(self.services, Actor(self.team_id, by), MarkLost(number, reason))


def digest_at(
    services: Services, as_of: datetime, *, team_id: str = TEAM, tz: str = "UTC", forecast_days: int = 365
) -> Digest:
    return compute_digest(services, team_id=team_id, period=period_ending(as_of, tz=tz), forecast_days=forecast_days)


def stage_totals(digest: Digest) -> list[tuple[str, int, int]]:
    return [(total.stage.key, total.deals, total.value_cents) for total in digest.by_stage]


def move_lines(listing: Listing) -> list[tuple]:
    return [
        (
            m.deal_number,
            m.deal_name,
            m.from_stage.key,
            m.to_stage.key,
            m.requested_by,
            m.decided_by,
            m.at,
            m.evidence,
            m.reason,
        )
        for m in listing.items
    ]


def deal_lines(listing: Listing) -> list[tuple]:
    return [(d.deal_number, d.deal_name, d.owner_id, d.stage.key, d.value_cents, d.at, d.reason) for d in listing.items]


def names(listing: Listing) -> list[str]:
    return [item.deal_name for item in listing.items]


def counts(digest: Digest, window: str) -> list[tuple[str, int, int, int, int]]:
    """Per stage: stays that entered it in the window, and of them how many moved on, dropped out, are open."""
    rows = [(row.stage.key, getattr(row, window)) for row in digest.conversion]
    return [(key, c.entered, c.moved_on, c.dropped_out, c.still_open) for key, c in rows]


def shrunk(moved_on: float, ended: int, prior: float) -> float:
    """The Beta-prior shrinkage the README defines: 10 pseudo-stays at the pipeline-wide rate."""
    return (moved_on + 10 * prior) / (ended + 10)


def medians(digest: Digest, window: str) -> list[float | None]:
    return [getattr(row, window).median_days for row in digest.conversion]


def worst(digest: Digest) -> list[str]:
    return [row.stage.key for row in digest.conversion if row.worst]


def forecast_stages(digest: Digest) -> list[tuple[str, int, int, float | None, int, bool]]:
    return [
        (s.stage.key, s.open_deals, s.open_value_cents, s.won_rate, s.basis, s.thin) for s in digest.forecast.stages
    ]


# The half-year history behind most tests. Digest as of 2026-07-01 00:00 UTC, so:
#   period           [Jun 24 00:00, Jul 1 00:00)
#   current window   [Apr 2 00:00, Jul 1 00:00)   (90 days)
#   previous window  [Jan 2 00:00, Apr 2 00:00)   (the 90 days before)
AS_OF = utc(7, 1, 0)
CHARLIE_SIGNED = Evidence("https://docs.example.com/charlie/signed.pdf")
FOXTROT_LINKS = (Evidence("https://mail.example.com/foxtrot/needs"), Evidence("https://mail.example.com/foxtrot/demo"))
GOLF_LINK = Evidence("https://mail.example.com/golf/our-own-email")
OSCAR_LINK = Evidence("https://mail.example.com/oscar/needs")


def build_history(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    # 1 Alpha: every stage up to Contract signed in the previous window, Implementation started Apr 10.
    alpha = h.create(utc(1, 10), "Alpha", 1_000_000)
    h.advance(alpha, utc(1, 19), utc(1, 20))
    h.advance(alpha, utc(2, 9), utc(2, 10))
    h.advance(alpha, utc(2, 28), utc(3, 1))
    h.advance(alpha, utc(3, 19), utc(3, 20))
    h.advance(alpha, utc(4, 9), utc(4, 10))
    # 2 Bravo: lost at Needs confirmed in the previous window.
    bravo = h.create(utc(1, 15), "Bravo", 200_000)
    h.advance(bravo, utc(1, 31), utc(2, 1))
    h.lose(bravo, utc(2, 20), "No budget this year")
    # 3 Charlie: created before both windows; skips Product evaluated on Mar 10, is moved back to it
    # on Apr 20, then goes on to Contract signed inside the period.
    charlie = h.create(utc(12, 20, year=2025), "Charlie", 300_000)
    h.advance(charlie, utc(1, 4), utc(1, 5))
    h.advance(charlie, utc(3, 9), utc(3, 10), to="proposal-received", links=2)
    h.back(charlie, utc(4, 20), "product-evaluated", "Buyer wants a second demo")
    h.advance(charlie, utc(5, 4), utc(5, 5))
    h.advance(charlie, utc(6, 24, 15), utc(6, 25, 10), evidence=(CHARLIE_SIGNED,))
    # 4 Delta: lost at Needs confirmed in the current window.
    delta = h.create(utc(4, 5), "Delta", 400_000)
    h.advance(delta, utc(4, 14), utc(4, 15))
    h.lose(delta, utc(5, 1), "Chose a competitor")
    # 5 Echo: won Jun 1, still at Contract signed.
    echo = h.create(utc(4, 10), "Echo", 500_000)
    h.advance(echo, utc(4, 19), utc(4, 20))
    h.advance(echo, utc(4, 30), utc(5, 1))
    h.advance(echo, utc(5, 14), utc(5, 15))
    h.advance(echo, utc(5, 31), utc(6, 1))
    # 6 Foxtrot: another rep's new deal, skips Needs confirmed inside the period.
    foxtrot = h.create(utc(6, 24, 8), "Foxtrot", 600_000, owner=OTHER_REP)
    h.advance(
        foxtrot,
        utc(6, 25),
        utc(6, 26),
        to="product-evaluated",
        evidence=FOXTROT_LINKS,
        by=OTHER_REP,
        decider=OTHER_MANAGER,
    )
    # 7 Golf: a move rejected inside the period.
    golf = h.create(utc(6, 2), "Golf", 700_000)
    h.advance(golf, utc(6, 27), utc(6, 28), evidence=(GOLF_LINK,), approve=False, reason="That's our own email")
    # 8 Hotel: a move waiting since Jun 27.
    hotel = h.create(utc(5, 20), "Hotel", 800_000)
    h.advance(hotel, utc(5, 24), utc(5, 25))
    h.request(hotel, utc(6, 27))
    # 9 India: a move waiting only 12 hours at as_of.
    india = h.create(utc(6, 10), "India", 900_000)
    h.request(india, utc(6, 30, 12))
    # 10 Juliet: created in the previous window; a move requested Jun 20 and approved only after as_of.
    juliet = h.create(utc(3, 25), "Juliet", 1_100_000)
    h.advance(juliet, utc(4, 1), utc(4, 3))
    h.decide(h.request(juliet, utc(6, 20)), utc(7, 2))
    # 11 Kilo: no value; new and lost inside the period.
    kilo = h.create(utc(6, 28), "Kilo", None)
    h.lose(kilo, utc(6, 29), "Not a fit")
    # 12 Lima: lost at Product evaluated inside the period.
    lima = h.create(utc(4, 6), "Lima", 1_200_000)
    h.advance(lima, utc(4, 15), utc(4, 16))
    h.advance(lima, utc(5, 1), utc(5, 2))
    h.lose(lima, utc(6, 27), "Project cancelled")
    # 13 Mike: won Jun 10, Implementation started one hour before the period.
    mike = h.create(utc(4, 7), "Mike", 1_300_000)
    h.advance(mike, utc(4, 16), utc(4, 17))
    h.advance(mike, utc(5, 2), utc(5, 3))
    h.advance(mike, utc(5, 19), utc(5, 20))
    h.advance(mike, utc(6, 9), utc(6, 10))
    h.advance(mike, utc(6, 22), utc(6, 23, 23))
    # 14 November: created exactly at as_of, so after the period.
    h.create(AS_OF, "November", 1_400_000)
    # 15 Oscar: a manager's deal, created exactly at the period's start; another manager approves.
    oscar = h.create(utc(6, 24, 0), "Oscar", 1_500_000, owner=MANAGER)
    h.advance(oscar, utc(6, 29), utc(6, 30), evidence=(OSCAR_LINK,), by=MANAGER, decider=OTHER_MANAGER)
    # 16 Papa: created one minute before the period.
    h.create(utc(6, 23, 23, 59), "Papa", 1_600_000)
    # 17 Quebec: exactly 14 days at Meeting booked (its limit) at as_of.
    h.create(utc(6, 17, 0), "Quebec", 1_700_000)

    # Another workspace, with something in every list, that must not show up in T1's digest.
    other = History(services, clock, OTHER_TEAM)
    xray = other.create(utc(1, 20), "Other Xray", 9_000_000)
    other.advance(xray, utc(1, 31), utc(2, 1))
    other.lose(xray, utc(3, 1), "Other team reason")
    yankee = other.create(utc(4, 5), "Other Yankee", 9_100_000)
    other.advance(yankee, utc(6, 25), utc(6, 26), to="contract-signed", links=4)
    zulu = other.create(utc(6, 25), "Other Zulu", 9_200_000)
    other.advance(zulu, utc(6, 25, 12), utc(6, 26, 12), decider=OTHER_MANAGER)
    other.request(zulu, utc(6, 27))
    other.create(utc(5, 1), "Other Whiskey", 9_300_000)
    victor = other.create(utc(6, 25, 10), "Other Victor", 9_400_000)
    other.advance(victor, utc(6, 26), utc(6, 27), approve=False, reason="Other team rejection")
    other.lose(victor, utc(6, 28), "Other team lost it")


def test_an_empty_pipeline_has_zeros_everywhere(services: Services) -> None:
    digest = digest_at(services, AS_OF)
    assert digest.team_id == TEAM
    assert (digest.period.start, digest.period.end, digest.as_of) == (utc(6, 24, 0), AS_OF, AS_OF)
    assert stage_totals(digest) == [(key, 0, 0) for key in STAGES]
    assert (digest.won_in_period.stage.key, digest.won_in_period.deals, digest.won_in_period.value_cents) == (
        "contract-signed",
        0,
        0,
    )
    assert (digest.lost_in_period.deals, digest.lost_in_period.value_cents) == (0, 0)
    for listing in (
        digest.approved,
        digest.rejected,
        digest.new_deals,
        digest.lost_deals,
        digest.pending,
        digest.stalled.pipeline,
        digest.stalled.onboarding,
        digest.stalled.by_owner,
    ):
        assert (listing.items, listing.total, listing.more) == ((), 0, 0)
    nothing = Conversion(0, 0, 0, 0, 0, 0, 0, None, None, 0, None, None, 0.0)
    assert [(row.current, row.previous, row.worst) for row in digest.conversion] == [(nothing, nothing, False)] * 7
    assert [row.stage.key for row in digest.conversion] == list(STAGES)
    forecast = digest.forecast
    assert (forecast.expected_wins, forecast.expected_value_cents, forecast.open_deals, forecast.basis) == (0, 0, 0, 0)
    # Only the four stages before Contract signed are forecast; no history, so no rates.
    assert forecast_stages(digest) == [(key, 0, 0, None, 0, True) for key in STAGES[:4]]
    assert (forecast.wins_low, forecast.wins_high, forecast.soon_wins) == (0, 0, 0)
    # Nothing open, so nothing rests on thin history.
    assert forecast.enough_history is True
    json.dumps(digest.to_json())


def test_where_deals_are_and_what_happened_in_the_period(services: Services, clock: Clock) -> None:
    build_history(services, clock)
    digest = digest_at(services, AS_OF)
    assert (digest.team_id, digest.as_of, digest.window_days) == (TEAM, AS_OF, 90)
    assert (digest.period.start, digest.period.end, digest.period.tz) == (utc(6, 24, 0), AS_OF, "UTC")
    assert stage_totals(digest) == [
        # Golf 7000 + India 9000 + Papa 16000 + Quebec 17000 (November came at as_of)
        ("meeting-booked", 4, 4_900_000),
        ("needs-confirmed", 3, 3_400_000),  # Hotel 8000 + Juliet 11000 (approved only Jul 2) + Oscar 15000
        ("product-evaluated", 1, 600_000),  # Foxtrot (Lima was lost)
        ("proposal-received", 0, 0),  # Charlie and Echo went on, nobody else is there
        ("contract-signed", 2, 800_000),  # Charlie 3000 + Echo 5000
        ("implementation-started", 2, 2_300_000),  # Alpha 10000 + Mike 13000
        ("live", 0, 0),
    ]
    # Only Charlie entered Contract signed in [Jun 24, Jul 1); Echo (Jun 1) and Mike (Jun 10) before.
    won = digest.won_in_period
    assert (won.stage.key, won.deals, won.value_cents) == ("contract-signed", 1, 300_000)
    # Lima (12000) Jun 27 and Kilo (no value) Jun 29; Bravo and Delta were lost before the period.
    assert (digest.lost_in_period.deals, digest.lost_in_period.value_cents) == (2, 1_200_000)

    # Lists are oldest first. Mike's move (Jun 23 23:00) is before the period, Juliet's (Jul 2) after it.
    assert move_lines(digest.approved) == [
        (3, "Charlie", "proposal-received", "contract-signed", REP, MANAGER, utc(6, 25, 10), (CHARLIE_SIGNED,), None),
        (
            6,
            "Foxtrot",
            "meeting-booked",
            "product-evaluated",
            OTHER_REP,
            OTHER_MANAGER,
            utc(6, 26),
            FOXTROT_LINKS,
            None,
        ),
        (15, "Oscar", "meeting-booked", "needs-confirmed", MANAGER, OTHER_MANAGER, utc(6, 30), (OSCAR_LINK,), None),
    ]
    assert (digest.approved.total, digest.approved.more) == (3, 0)
    # The rejected move's evidence has its own test below.
    assert [line[:7] + line[8:] for line in move_lines(digest.rejected)] == [
        (7, "Golf", "meeting-booked", "needs-confirmed", REP, MANAGER, utc(6, 28), "That's our own email"),
    ]
    assert digest.rejected.total == 1
    # Oscar at the period's first instant is in; Papa a minute before and November at as_of are out.
    # A new deal is listed at the stage it was created at.
    assert deal_lines(digest.new_deals) == [
        (15, "Oscar", MANAGER, "meeting-booked", 1_500_000, utc(6, 24, 0), None),
        (6, "Foxtrot", OTHER_REP, "meeting-booked", 600_000, utc(6, 24, 8), None),
        (11, "Kilo", REP, "meeting-booked", None, utc(6, 28), None),
    ]
    assert digest.new_deals.total == 3
    # A lost deal is listed at the stage it was lost from, with its reason.
    assert deal_lines(digest.lost_deals) == [
        (12, "Lima", REP, "product-evaluated", 1_200_000, utc(6, 27), "Project cancelled"),
        (11, "Kilo", REP, "meeting-booked", None, utc(6, 29), "Not a fit"),
    ]
    assert digest.lost_deals.total == 2

    # Waiting more than a day at as_of: Juliet's (decided only on Jul 2) and Hotel's.
    # India's is 12 hours old; Golf's, Oscar's and Charlie's were decided before as_of.
    assert [
        (p.deal_number, p.deal_name, p.to_stage.key, p.requested_by, p.requested_at) for p in digest.pending.items
    ] == [
        (10, "Juliet", "product-evaluated", REP, utc(6, 20)),
        (8, "Hotel", "product-evaluated", REP, utc(6, 27)),
    ]
    assert [(p.channel_id, p.message_ts, p.thread_ts) for p in digest.pending.items] == [("C1", None, None)] * 2
    assert digest.pending.total == 2

    # Longer in their stage than its limit at Jul 1 00:00, oldest entry first. Quebec (exactly 14 days
    # at Meeting booked) is not over; Papa, Foxtrot, Oscar, Charlie and Mike entered recently.
    def stalled(listing: Listing[StalledLine]) -> list[tuple[object, ...]]:
        return [
            (
                s.deal_number,
                s.deal_name,
                s.owner_id,
                s.stage.key,
                s.entered_at,
                s.days_in_stage,
                s.stall_after_days,
                s.value_cents,
            )
            for s in listing.items
        ]

    assert stalled(digest.stalled.pipeline) == [
        (10, "Juliet", REP, "needs-confirmed", utc(4, 3), 88, 21, 1_100_000),  # Apr 3 09:00 → 88 d 15 h
        (8, "Hotel", REP, "needs-confirmed", utc(5, 25), 36, 21, 800_000),  # 36 d 15 h
        (7, "Golf", REP, "meeting-booked", utc(6, 2), 28, 14, 700_000),  # a rejected move does not reset the clock
        (9, "India", REP, "meeting-booked", utc(6, 10), 20, 14, 900_000),  # 20 d 15 h
    ]
    assert stalled(digest.stalled.onboarding) == [
        (1, "Alpha", REP, "implementation-started", utc(4, 10), 81, 30, 1_000_000),  # 81 d 15 h
        (5, "Echo", REP, "contract-signed", utc(6, 1), 29, 14, 500_000),  # 29 d 15 h
    ]
    assert (digest.stalled.pipeline.total, digest.stalled.onboarding.total, digest.stalled.total) == (4, 2, 6)
    assert [(o.owner_id, o.deals, o.snoozed, o.oldest.deal_name) for o in digest.stalled.by_owner.items] == [
        (REP, 6, 0, "Juliet")
    ]


def test_conversion_in_both_windows_and_the_forecast(services: Services, clock: Clock) -> None:
    build_history(services, clock)
    digest = digest_at(services, AS_OF)
    # Current window [Apr 2, Jul 1), seen on Jul 1 00:00: each stay that entered a stage in it.
    assert counts(digest, "current") == [
        # Delta Echo Foxtrot Golf Hotel India Kilo Lima Mike Oscar Papa Quebec; on: Delta Echo Foxtrot
        # Hotel Lima Mike Oscar; dropped out: Kilo (lost); still there: Golf India Papa Quebec.
        ("meeting-booked", 12, 7, 1, 4),
        # Delta Echo Hotel Juliet Lima Mike Oscar + Foxtrot's skip; on: Echo Lima Mike Foxtrot; Delta
        # lost; Hotel, Juliet (approved only Jul 2) and Oscar still there.
        ("needs-confirmed", 8, 4, 1, 3),
        # Charlie (moved back Apr 20) Echo Foxtrot Lima Mike; Lima lost; Foxtrot still there.
        ("product-evaluated", 5, 3, 1, 1),
        ("proposal-received", 3, 3, 0, 0),  # Charlie (re-entered May 5) Echo Mike
        ("contract-signed", 3, 1, 0, 2),  # Charlie Echo Mike; only Mike went on
        ("implementation-started", 2, 0, 0, 2),  # Alpha Mike
        ("live", 0, 0, 0, 0),
    ]
    # Kaplan-Meier medians over whole hours, open stays censored at their age on Jul 1 00:00.
    assert medians(digest, "current") == pytest.approx(
        # MB: ended 24h (Kilo) 49 (Foxtrot) 120 153 240 ×4, Papa censored at 168: S(240) = 8/12 × 3/7 < 1/2.
        # NC: Oscar censored at 15h, Echo 264, then three at 384: S(384) = 5/6 × 2/5.
        # PE: Foxtrot censored at 111h; 336 (Echo) 360 (Charlie): S(360) = 1/2.
        # PR: 408 504 1225: S(504) = 1/3. CS: Charlie censored at 134h, Mike 326 (13 d 14 h): S = 1/2.
        # Implementation started: nobody has left it yet, so no median.
        [10.0, 16.0, 15.0, 21.0, 13 + 14 / 24, None, None],
        abs=1e-6,
    )
    # Alpha, at Implementation started since Apr 10 09:00: 81 days 15 hours, counted in whole days after a month.
    assert digest.conversion[5].current.watched_days == 81.0
    # Previous window [Jan 2, Apr 2), seen on Apr 2 00:00. Charlie was created before it.
    assert counts(digest, "previous") == [
        ("meeting-booked", 3, 2, 0, 1),  # Alpha Bravo on; Juliet moved on only Apr 3
        ("needs-confirmed", 3, 2, 1, 0),  # Alpha Charlie on; Bravo lost
        ("product-evaluated", 2, 2, 0, 0),  # Alpha, and Charlie's skip
        ("proposal-received", 2, 1, 0, 1),  # Alpha on; Charlie there until Apr 20
        ("contract-signed", 1, 0, 0, 1),  # Alpha, until Apr 10
        ("implementation-started", 0, 0, 0, 0),
        ("live", 0, 0, 0, 0),
    ]
    # MB: Juliet censored at 183h, Alpha 240: S = 1/2. NC: 456 (Bravo) 504. PE: Alpha's 456 (skips take no
    # time and are left out). PR: Alpha 456, Charlie censored at 543. CS: Alpha open.
    assert medians(digest, "previous") == pytest.approx([10.0, 21.0, 19.0, 19.0, None, None, None], abs=1e-6)

    # Next-stage rates: Aalen-Johansen over every stay in the stage during the window, shrunk towards the
    # pipeline-wide rate. Besides the stays above, three were open when the window began on Apr 2: Juliet at
    # Meeting booked (183h old then, moved on at 216h), Charlie at Proposal received (543h old, moved back at
    # 41 days) and Alpha at Contract signed (303h old, moved on at 504h).
    # MB: 24h lost (n=12), 49 120 153 on, Papa censored at 168, Juliet joins at 183, on at 216 (n=8), four on at
    #     240 (n=7): F_on = 3/12 + (8/12)(1/8) + (7/12)(4/7) = 8/12, F_out = 1/12: 8/9 over 9 ended.
    # NC (all entries): F_on = 1/8 + (7/8)(1/6) + (35/48)(2/5) = 27/48, F_out = 7/48: 27/34 over 5.
    # NC (real stays, for a deal sitting there): 1/2 against 1/6: 3/4 over 4.  PE: 3/4 over 4.
    # PR: 408 504 on (n=3, 2), Charlie joins at 543, moved back at 984 (n=2), Charlie's re-entry on at 1224:
    #     F_on = 1/3 + 1/3 + 1/6, F_out = 1/6: 5/6 over 4.  CS: Mike at 326 (n=3), Alpha at 504 (n=2): 1 over 2.
    # Pipeline-wide: 8 + 4 + 3 + 3 moved on of 22 ended = 9/11.
    prior = 9 / 11
    mb, nc = shrunk(8, 9, prior), shrunk(27 / 34 * 5, 5, prior)
    nc_real, pe, pr = shrunk(3, 4, prior), shrunk(3, 4, prior), shrunk(5 / 6 * 4, 4, prior)
    assert [row.current.next_rate for row in digest.conversion[:4]] == pytest.approx([mb, nc, pe, pr])
    assert [row.current.rate_basis for row in digest.conversion] == [9, 5, 4, 4, 2, 0, 0]
    assert digest.conversion[4].current.next_rate == pytest.approx(shrunk(2, 2, prior))
    assert digest.conversion[5].current.next_rate is None  # nobody has left Implementation started
    assert [row.current.won_rate for row in digest.conversion[:4]] == pytest.approx(
        [mb * nc * pe * pr, nc_real * pe * pr, pe * pr, pr]
    )
    assert worst(digest) == ["product-evaluated"]  # the lowest shrunk rate among stages with a next stage

    # The forecast, with its rates read over the same 90 days: each open deal's chance is its stage's, but
    # Papa, 7 days into Meeting booked, is judged by the 5 stays that lasted longer than 168h: all moved on,
    # tempered by 40 pseudo-stays at the stage's rate.
    forecast = digest_at(services, AS_OF, forecast_days=90).forecast
    papa = (5 + 40 * mb) / 45
    assert [(s.stage.key, s.open_deals, s.open_value_cents, s.won_rate, s.basis) for s in forecast.stages] == [
        ("meeting-booked", 4, 4_900_000, pytest.approx(mb * nc * pe * pr), 4),
        ("needs-confirmed", 3, 3_400_000, pytest.approx(nc_real * pe * pr), 4),
        ("product-evaluated", 1, 600_000, pytest.approx(pe * pr), 4),
        ("proposal-received", 0, 0, pytest.approx(pr), 4),
    ]
    # Golf India Quebec at the stage's rate, Papa at his own; Hotel Juliet Oscar; Foxtrot.
    wins = (3 * mb + papa) * nc * pe * pr + 3 * nc_real * pe * pr + pe * pr
    assert forecast.expected_wins == round(wins, 2)
    assert forecast.expected_value_cents == round(
        (3_300_000 * mb + 1_600_000 * papa) * nc * pe * pr + 3_400_000 * nc_real * pe * pr + 600_000 * pe * pr
    )
    assert forecast.open_deals == 8
    assert forecast.wins_low <= round(wins) <= forecast.wins_high <= 8
    # Within 30 days: Echo, Mike and Charlie were won in the window, 52, 64 and 187 days after entering
    # Meeting booked, 42, 54 and 171 after Needs confirmed, 31, 38 and 66 after Product evaluated. Of those
    # that had sat at least as long as Golf (28 days), one (Echo) closed within 30 more: 1/3; India (20),
    # Papa (7), Quebec (14): none. Hotel (36 days at Needs confirmed): Echo and Mike, 2/3; Juliet (88) and
    # Oscar (0): none. Foxtrot (4 days at Product evaluated): Echo, 1/3.
    soon = mb * nc * pe * pr / 3 + nc_real * pe * pr * 2 / 3 + pe * pr / 3
    assert forecast.soon_wins == round(soon, 2)
    # The 12 new deals, Juliet (Needs confirmed Apr 3) and Charlie (moved back Apr 20); Alpha only
    # entered Implementation started.
    assert forecast.basis == 14
    assert forecast.enough_history is False
    # Over the default 365 days the forecast reads the older stays too (Alpha's, Bravo's, Charlie's).
    yearly = digest.forecast.stages[0].factors
    assert [factor.ended for factor in yearly] == [12, 8, 6, 5]


def test_another_workspace_never_appears(services: Services, clock: Clock) -> None:
    build_history(services, clock)
    mine = digest_at(services, AS_OF)
    shown = {
        *names(mine.approved),
        *names(mine.rejected),
        *names(mine.new_deals),
        *names(mine.lost_deals),
        *names(mine.pending),
        *names(mine.stalled.pipeline),
        *names(mine.stalled.onboarding),
    }
    assert not any(name.startswith("Other") for name in shown)
    theirs = digest_at(services, AS_OF, team_id=OTHER_TEAM)
    assert theirs.team_id == OTHER_TEAM
    assert stage_totals(theirs) == [
        ("meeting-booked", 1, 9_300_000),  # Whiskey
        ("needs-confirmed", 1, 9_200_000),  # Zulu
        ("product-evaluated", 0, 0),
        ("proposal-received", 0, 0),
        ("contract-signed", 1, 9_100_000),  # Yankee
        ("implementation-started", 0, 0),
        ("live", 0, 0),
    ]
    assert (theirs.won_in_period.deals, theirs.won_in_period.value_cents) == (1, 9_100_000)
    assert (theirs.lost_in_period.deals, theirs.lost_in_period.value_cents) == (1, 9_400_000)
    assert names(theirs.approved) == ["Other Yankee", "Other Zulu"]
    assert names(theirs.rejected) == ["Other Victor"]
    assert names(theirs.new_deals) == ["Other Zulu", "Other Victor"]
    assert names(theirs.lost_deals) == ["Other Victor"]
    assert names(theirs.pending) == ["Other Zulu"]
    assert names(theirs.stalled.pipeline) == ["Other Whiskey"]
    assert names(theirs.stalled.onboarding) == []
    # Current window: Yankee, Zulu, Whiskey, Victor created; previous: Xray.
    assert [row.current.entered for row in theirs.conversion] == [4, 2, 1, 1, 1, 0, 0]
    assert [row.previous.entered for row in theirs.conversion] == [1, 1, 0, 0, 0, 0, 0]


def test_to_json_is_serialisable_with_stages_as_keys(services: Services, clock: Clock) -> None:
    build_history(services, clock)
    payload = digest_at(services, AS_OF).to_json()
    assert json.loads(json.dumps(payload)) == payload
    assert payload["as_of"] == "2026-07-01T00:00:00+00:00"
    assert payload["period"] == {"start": "2026-06-24T00:00:00+00:00", "end": "2026-07-01T00:00:00+00:00", "tz": "UTC"}
    assert [item["stage"] for item in payload["by_stage"]] == list(STAGES)
    assert {key: payload["by_stage"][0][key] for key in ("stage", "deals", "value_cents")} == {
        "stage": "meeting-booked",
        "deals": 4,
        "value_cents": 4_900_000,
    }
    assert payload["won_in_period"] == {"stage": "contract-signed", "deals": 1, "value_cents": 300_000, "change": None}
    foxtrot = payload["approved"]["items"][1]
    assert (foxtrot["from_stage"], foxtrot["to_stage"]) == ("meeting-booked", "product-evaluated")
    assert foxtrot["evidence"] == [
        {"url": "https://mail.example.com/foxtrot/needs", "label": None},
        {"url": "https://mail.example.com/foxtrot/demo", "label": None},
    ]
    assert payload["approved"]["total"] == 3
    assert [item["stage"] for item in payload["lost_deals"]["items"]] == ["product-evaluated", "meeting-booked"]
    assert [item["to_stage"] for item in payload["pending"]["items"]] == ["product-evaluated"] * 2
    stalled = payload["stalled"]
    assert (stalled["total"], stalled["pipeline"]["total"], stalled["onboarding"]["total"]) == (6, 4, 2)
    assert stalled["pipeline"]["items"][0]["stage"] == "needs-confirmed"
    assert [item["stage"] for item in stalled["onboarding"]["items"]] == ["implementation-started", "contract-signed"]
    assert stalled["by_owner"]["total"] == 1
    (owner,) = stalled["by_owner"]["items"]
    assert (owner["owner_id"], owner["deals"], owner["snoozed"]) == (REP, 6, 0)
    assert (owner["oldest"]["deal_name"], owner["oldest"]["stage"], owner["oldest"]["days_in_stage"]) == (
        "Juliet",
        "needs-confirmed",
        88,
    )
    assert [row["stage"] for row in payload["conversion"]] == list(STAGES)
    needs_confirmed = payload["conversion"][1]["current"]
    assert {key: needs_confirmed[key] for key in ("entered", "moved_on", "dropped_out", "still_open")} == {
        "entered": 8,
        "moved_on": 4,
        "dropped_out": 1,
        "still_open": 3,
    }
    assert needs_confirmed["median_days"] == pytest.approx(16.0)
    assert [row["worst"] for row in payload["conversion"]] == [False, False, True] + [False] * 4
    assert [row["stage"] for row in payload["forecast"]["stages"]] == list(STAGES[:4])
    first = payload["forecast"]["stages"][0]
    assert [factor["stage"] for factor in first["factors"]] == list(STAGES[:4])
    assert [factor["ended"] for factor in first["factors"]] == [12, 8, 6, 5]
    assert set(payload["forecast"]) >= {"expected_wins", "expected_value_cents", "wins_low", "wins_high", "soon_wins"}
    assert payload["forecast"]["basis"] == 14


def test_a_skip_and_moves_back_count_every_entry(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    # Romeo: Meeting booked Jun 1, Needs confirmed Jun 3, Product evaluated Jun 5, back to Needs
    # confirmed Jun 6, Product evaluated again Jun 10, then skips Proposal received to Contract signed Jun 12.
    romeo = h.create(utc(6, 1), "Romeo", 200_000)
    h.advance(romeo, utc(6, 2), utc(6, 3))
    h.advance(romeo, utc(6, 4), utc(6, 5))
    h.back(romeo, utc(6, 6), "needs-confirmed", "Buyer's sponsor left")
    h.advance(romeo, utc(6, 9), utc(6, 10))
    h.advance(romeo, utc(6, 11), utc(6, 12), to="contract-signed", links=2)
    # Sierra: Meeting booked Jun 1, Needs confirmed Jun 2, back to Meeting booked Jun 7, and stays.
    sierra = h.create(utc(6, 1), "Sierra", 100_000)
    h.advance(sierra, utc(6, 1, 12), utc(6, 2))
    h.back(sierra, utc(6, 7), "meeting-booked", "No budget owner after all")
    digest = digest_at(services, AS_OF)
    # Every stay counts: Romeo entered Needs confirmed and Product evaluated twice, Sierra Meeting booked twice.
    assert counts(digest, "current") == [
        ("meeting-booked", 3, 2, 0, 1),  # Romeo on, Sierra on, Sierra again (still there)
        ("needs-confirmed", 3, 2, 1, 0),  # Romeo on twice, Sierra moved back
        ("product-evaluated", 2, 1, 1, 0),  # Romeo moved back, then on
        ("proposal-received", 1, 1, 0, 0),  # Romeo's skip
        ("contract-signed", 1, 0, 0, 1),
        ("implementation-started", 0, 0, 0, 0),
        ("live", 0, 0, 0, 0),
    ]
    # Kaplan-Meier medians over real stays (a skip takes no time and is left out).
    assert medians(digest, "current") == pytest.approx(
        [
            2.0,  # 24h (Sierra) 48h (Romeo), Sierra's second stay censored at 567h
            4.0,  # 48h 96h (Romeo) 120h (Sierra)
            1.0,  # 24h (moved back) 48h: half had left after a day
            None,  # only skipped through
            None,  # Romeo still there (18.625 days)
            None,
            None,
        ],
        abs=1e-6,
    )
    # Raw rates 2/2, 2/3, 1/2, 1/1; pipeline-wide 6 of 8 ended moved on.
    mb, nc, pe, pr = shrunk(2, 2, 0.75), shrunk(2, 3, 0.75), shrunk(1, 2, 0.75), shrunk(1, 1, 0.75)
    assert [row.current.next_rate for row in digest.conversion[:5]] == pytest.approx([mb, nc, pe, pr, None])
    assert worst(digest) == ["product-evaluated"]
    assert stage_totals(digest)[0] == ("meeting-booked", 1, 100_000)
    assert stage_totals(digest)[4] == ("contract-signed", 1, 200_000)
    # Sierra's time in stage runs from her move back, not from her creation.
    assert [(s.deal_name, s.entered_at, s.days_in_stage) for s in digest.stalled.pipeline.items] == [
        ("Sierra", utc(6, 7), 23),
    ]
    assert [(s.deal_name, s.stage.key, s.days_in_stage) for s in digest.stalled.onboarding.items] == [
        ("Romeo", "contract-signed", 18),
    ]
    # Sierra: 1 open deal at Meeting booked.
    forecast = digest.forecast
    chance = mb * nc * pe * pr
    assert (forecast.expected_wins, forecast.expected_value_cents, forecast.basis) == (
        round(chance, 2),
        round(100_000 * chance),
        2,
    )
    assert digest.won_in_period.deals == 0  # Romeo's win on Jun 12 is before the period


def test_deals_lost_at_every_stage(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    # Deal k (k = 0…6) is created May 1 09:00, enters stage j on May 1 + j days, and is lost at
    # stage k on Jun 25 at 09:00 + k hours (inside the period).
    for k, key in enumerate(STAGES):
        number = h.create(utc(5, 1), f"Lost at {key}", (k + 1) * 10_000)
        for j in range(1, k + 1):
            h.advance(number, utc(5, 1 + j, 8), utc(5, 1 + j))
        h.lose(number, utc(6, 25, 9 + k), f"Reason {k}")
    digest = digest_at(services, AS_OF)
    assert stage_totals(digest) == [(key, 0, 0) for key in STAGES]
    assert deal_lines(digest.lost_deals) == [
        (k + 1, f"Lost at {key}", REP, key, (k + 1) * 10_000, utc(6, 25, 9 + k), f"Reason {k}")
        for k, key in enumerate(STAGES)
    ]
    assert digest.lost_deals.total == 7
    assert (digest.lost_in_period.deals, digest.lost_in_period.value_cents) == (7, 280_000)  # 10 000 × (1+…+7)
    assert digest.won_in_period.deals == 0  # Contract signed was entered May 5
    assert (digest.approved.total, digest.new_deals.total, digest.stalled.total, digest.pending.total) == (0, 0, 0, 0)
    assert counts(digest, "current") == [
        ("meeting-booked", 7, 6, 1, 0),
        ("needs-confirmed", 6, 5, 1, 0),
        ("product-evaluated", 5, 4, 1, 0),
        ("proposal-received", 4, 3, 1, 0),
        ("contract-signed", 3, 2, 1, 0),
        ("implementation-started", 2, 1, 1, 0),
        ("live", 1, 0, 1, 0),
    ]
    # Every deal that moved on stayed 1 day; the one lost there stayed until Jun 25.
    assert medians(digest, "current") == pytest.approx(
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 49.0],  # Live: May 7 09:00 → Jun 25 15:00, in whole days after a month
        abs=1e-6,
    )
    # Nothing is open, so the rates are plain shares: 6/7, 5/6, 4/5, 3/4, 2/3, 1/2, shrunk towards the
    # pipeline-wide 18 of 22 (stages before the win).
    prior = 18 / 22
    rates = [shrunk(6, 7, prior), shrunk(5, 6, prior), shrunk(4, 5, prior), shrunk(3, 4, prior)]
    assert [row.current.next_rate_raw for row in digest.conversion[:6]] == pytest.approx(
        [6 / 7, 5 / 6, 4 / 5, 3 / 4, 2 / 3, 1 / 2]
    )
    assert worst(digest) == ["implementation-started"]
    assert forecast_stages(digest) == [
        ("meeting-booked", 0, 0, pytest.approx(rates[0] * rates[1] * rates[2] * rates[3]), 4, True),
        ("needs-confirmed", 0, 0, pytest.approx(rates[1] * rates[2] * rates[3]), 4, True),
        ("product-evaluated", 0, 0, pytest.approx(rates[2] * rates[3]), 4, True),
        ("proposal-received", 0, 0, pytest.approx(rates[3]), 4, True),
    ]
    assert (digest.forecast.expected_wins, digest.forecast.open_deals, digest.forecast.basis) == (0, 0, 7)


def test_lists_show_ten_and_count_the_rest(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    # Deals 1–12: at Meeting booked since Jun 1 (stalled) with a move waiting since Jun 20.
    for i in range(12):
        number = h.create(utc(6, 1, 9 + i), f"Stale {i + 1}", 100_000)
        h.request(number, utc(6, 20, 9 + i))
    # Deals 13–23: created, approved, rejected and lost inside the period.
    for i in range(11):
        number = h.create(utc(6, 24, 9 + i), f"Fresh {i + 1}", 100_000)
        h.advance(number, utc(6, 25, 9 + i), utc(6, 26, 9 + i))
        h.advance(number, utc(6, 27, 9 + i), utc(6, 28, 9 + i), approve=False, reason="Not the buyer's words")
        h.lose(number, utc(6, 29, 9 + i), "Went quiet")
    digest = digest_at(services, AS_OF)
    stale = [f"Stale {i}" for i in range(1, 11)]
    fresh = [f"Fresh {i}" for i in range(1, 11)]
    assert (names(digest.pending), digest.pending.total, digest.pending.more) == (stale, 12, 2)
    stalled = digest.stalled.pipeline
    assert (names(stalled), stalled.total, stalled.more) == (stale, 12, 2)
    assert [s.days_in_stage for s in stalled.items] == [29] * 10  # Jun 1 09:00–18:00 → Jul 1 00:00
    for listing in (digest.new_deals, digest.approved, digest.rejected, digest.lost_deals):
        assert (names(listing), listing.total, listing.more) == (fresh, 11, 1)
    assert (digest.lost_in_period.deals, digest.lost_in_period.value_cents) == (11, 1_100_000)
    assert stage_totals(digest)[0] == ("meeting-booked", 12, 1_200_000)


def test_period_boundaries_are_local_midnights(services: Services, clock: Clock) -> None:
    as_of = local_midnight(date(2026, 6, 10), NEW_YORK)
    assert as_of == utc(6, 10, 4)  # EDT is UTC−4
    period = period_ending(as_of, tz=NEW_YORK)
    assert (period.start, period.end, period.tz) == (utc(6, 3, 4), utc(6, 10, 4), NEW_YORK)
    h = History(services, clock)
    h.create(new_york(6, 2, 23, 30), "Tuesday night", 100_000)  # 03:30 UTC Jun 3: before the period
    h.create(new_york(6, 3, 0, 30), "Wednesday morning", 200_000)  # 04:30 UTC: inside
    h.create(new_york(6, 9, 23, 30), "Last evening", 300_000)  # 03:30 UTC Jun 10: inside
    h.create(new_york(6, 10, 0, 30), "Next morning", 400_000)  # 04:30 UTC Jun 10: after as_of
    late = h.create(utc(5, 1), "Signed late", 1_000_000)
    h.advance(late, utc(5, 2), new_york(6, 2, 23, 30), to="contract-signed", links=4)
    early = h.create(utc(5, 1), "Signed early", 2_000_000)
    h.advance(early, utc(5, 2), new_york(6, 3, 0, 30), to="contract-signed", links=4)
    digest = compute_digest(services, team_id=TEAM, period=period)
    assert names(digest.new_deals) == ["Wednesday morning", "Last evening"]
    assert names(digest.approved) == ["Signed early"]
    assert (digest.won_in_period.deals, digest.won_in_period.value_cents) == (1, 2_000_000)
    assert stage_totals(digest)[0] == ("meeting-booked", 3, 600_000)  # not Next morning


def test_a_week_across_a_dst_change_has_169_or_167_hours(services: Services, clock: Clock) -> None:
    assert local_midnight(date(2026, 11, 1), NEW_YORK) == utc(11, 1, 4)  # clocks go back at 02:00
    as_of = local_midnight(date(2026, 11, 5), NEW_YORK)
    assert as_of == utc(11, 5, 5)  # EST is UTC−5
    period = period_ending(as_of, days=7, tz=NEW_YORK)
    assert period.start == utc(10, 29, 4)  # Oct 29 00:00 EDT
    assert period.end - period.start == timedelta(hours=169)
    spring = period_ending(local_midnight(date(2026, 3, 12), NEW_YORK), tz=NEW_YORK)
    assert (spring.start, spring.end) == (utc(3, 5, 5), utc(3, 12, 4))  # clocks went forward Mar 8
    assert spring.end - spring.start == timedelta(hours=167)
    h = History(services, clock)
    h.create(new_york(10, 28, 23, 30), "Wednesday night EDT", 100_000)  # 03:30 UTC Oct 29: before
    h.create(new_york(10, 29, 0, 30), "First morning EDT", 200_000)  # 04:30 UTC: inside (not with a 7×24 h week)
    h.create(new_york(11, 4, 23, 30), "Last night EST", 300_000)  # 04:30 UTC Nov 5: inside
    h.create(new_york(11, 5, 0, 30), "Next morning EST", 400_000)  # 05:30 UTC Nov 5: after
    digest = compute_digest(services, team_id=TEAM, period=period)
    assert names(digest.new_deals) == ["First morning EDT", "Last night EST"]


def test_rejected_move_lists_the_evidence_that_was_turned_down(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    golf = h.create(utc(6, 2), "Golf", 700_000)
    h.advance(golf, utc(6, 27), utc(6, 28), evidence=(GOLF_LINK,), approve=False, reason="That's our own email")
    digest = digest_at(services, AS_OF)
    # The rep asked with one link and the manager turned it down: the line should show what was judged,
    # as an approved line does, not an empty list (a move cannot be requested without evidence).
    assert [line.evidence for line in digest.rejected.items] == [(GOLF_LINK,)]


def test_a_won_deal_moved_back_to_the_won_stage_is_not_won_again(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    # Tango: won May 1, Implementation started Jun 1, moved back to Contract signed inside the period.
    tango = h.create(utc(4, 1), "Tango", 700_000)
    h.advance(tango, utc(4, 30), utc(5, 1), to="contract-signed", links=4)
    h.advance(tango, utc(5, 31), utc(6, 1))
    h.back(tango, utc(6, 25), "contract-signed", "Kickoff postponed, contract amended")
    # Uniform: won inside the period.
    uniform = h.create(utc(4, 1), "Uniform", 300_000)
    h.advance(uniform, utc(6, 25), utc(6, 26), to="contract-signed", links=4)
    digest = digest_at(services, AS_OF)
    assert stage_totals(digest)[4] == ("contract-signed", 2, 1_000_000)
    # Only Uniform became won in [Jun 24, Jul 1); Tango was won on May 1.
    assert (digest.won_in_period.deals, digest.won_in_period.value_cents) == (1, 300_000)


def test_a_move_back_that_never_moves_on_again_does_not_count_as_converting(services: Services, clock: Clock) -> None:
    h = History(services, clock)
    # Tango reached Proposal received in the previous window, then, in the current window, went back
    # to Needs confirmed on May 10 and stayed there. Having been further before the re-entry is not
    # converting: nothing moved it on after it re-entered.
    tango = h.create(utc(1, 5), "Tango", 100_000)
    h.advance(tango, utc(1, 6), utc(1, 7))
    h.advance(tango, utc(1, 8), utc(1, 9))
    h.advance(tango, utc(1, 10), utc(1, 11))
    h.back(tango, utc(5, 10), "needs-confirmed", "New CFO reopened the budget")
    digest = digest_at(services, AS_OF)
    assert counts(digest, "current")[1] == ("needs-confirmed", 1, 0, 0, 1)
    assert counts(digest, "previous")[1] == ("needs-confirmed", 1, 1, 0, 0)
    # Nothing ended in the current window: no rate, rather than a made-up one.
    assert digest.conversion[1].current.next_rate is None
    # The forecast reads the year: Tango moved on from Needs confirmed and Product evaluated once each and
    # went back from Proposal received; pipeline-wide 3 of 4 moved on.
    assert digest.forecast.stages[1].won_rate == pytest.approx(shrunk(1, 1, 0.75) ** 2 * shrunk(0, 1, 0.75))
