# ruff: noqa: S101, S311  (benchmarks assert their targets; the calendar is pseudo-random on purpose)
"""Slot finder benchmarks (``make bench``): a search at national scale answers within 100 ms.

One service has 50 facilitators (a few part-time, each with two days of leave),
20 venues with 60 rooms (a meeting room and two waiting rooms each), and a
six-week window filled with meetings placed at random where everyone is free
(face to face conferences, preparation meetings, video meetings) until the
calendar is busy; other services' bookings bring the table to 20,000 rows
in the window. Measured: ``find_slots`` on a prepared snapshot (a normal
search, and the worst case where nothing fits and all six weeks are scanned),
and ``load_snapshot`` + ``find_slots`` against the database.

The database is SQLite in a temporary folder, or the PostgreSQL database named
by ``RJ_BENCH_DATABASE_URL`` (or ``RJ_TEST_DATABASE_URL``); it is emptied first.
Figures go in docs/benchmarks.md under "Slot finder".
"""

from __future__ import annotations

import datetime as dt
import os
import random
import secrets
import tempfile
from bisect import bisect_right, insort
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from rj_scheduler import create_app
from rj_scheduler.auth.models import Role
from rj_scheduler.conferences.models import (
    Meeting,
    OpeningHours,
    ResourceBooking,
    Room,
    StaffLeave,
    Venue,
    WorkingHours,
)
from rj_scheduler.conferences.slots import (
    Busy,
    SlotRequest,
    VenueCalendar,
    attending_parties,
    find_slots,
    load_snapshot,
)
from rj_scheduler.extensions import db

LONDON = ZoneInfo("Europe/London")
FACILITATORS = 50
VENUES = 20
TOTAL_BOOKINGS = 20_000
FIRST_DAY = dt.date(2027, 1, 11)  # a Monday with no bank holiday in the six weeks after it
LAST_DAY = FIRST_DAY + dt.timedelta(weeks=6, days=-1)
AT = dt.datetime(2027, 1, 8, 17, 0, tzinfo=dt.UTC)
TARGET_MS = 100
BUFFER = dt.timedelta(minutes=15)


@pytest.fixture(scope="module")
def app() -> Iterator:
    url = os.environ.get("RJ_BENCH_DATABASE_URL") or os.environ.get("RJ_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory(prefix="rj-bench-slots-") as folder:
        if url:
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            engine.dispose()
        else:
            url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        os.environ.setdefault("RJ_ENV", "development")
        application = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "b" * 40,
                "TESTING": True,
                "SERVER_NAME": "localhost",
            }
        )
        with application.app_context():
            from flask_migrate import upgrade

            upgrade()
            yield application
            db.session.remove()
            db.engine.dispose()


class _Free:
    """The generator's own record of who is busy when (so PostgreSQL's exclusion constraint never fires)."""

    def __init__(self) -> None:
        self.busy: dict[tuple[str, int], list[tuple[dt.datetime, dt.datetime]]] = {}

    def free(self, key: tuple[str, int], start: dt.datetime, end: dt.datetime) -> bool:
        spans = self.busy.get(key, [])
        i = bisect_right(spans, (start, dt.datetime.max.replace(tzinfo=dt.UTC)))
        if i and spans[i - 1][1] > start:
            return False
        return i == len(spans) or spans[i][0] >= end

    def take(self, key: tuple[str, int], start: dt.datetime, end: dt.datetime) -> None:
        insort(self.busy.setdefault(key, []), (start, end))


@pytest.fixture(scope="module")
def calendar(app) -> dict:
    """Build the national-scale calendar once (committed), and return what the benchmarks need."""
    from tests.factories import make_ready_case, make_service, make_user, sign_off_all_assessments

    rng = random.Random(20270111)
    service = make_service("Benchmark area", f"B{secrets.token_hex(2)}")
    staff = [
        make_user(service, Role.FACILITATOR, full_name=f"Facilitator {n:02d}") for n in range(FACILITATORS)
    ]
    case = make_ready_case(service, lead=staff[0])
    sign_off_all_assessments(case, author=staff[0], approver=make_user(service, Role.MANAGER))
    holder_case = make_ready_case(service, lead=staff[1])
    session = db.session

    for n, user in enumerate(staff):
        if n % 10 == 9:  # part-time: Monday to Wednesday
            for weekday in range(3):
                session.add(
                    WorkingHours(
                        service_id=service.id,
                        user_id=user.id,
                        weekday=weekday,
                        starts_at=dt.time(9),
                        ends_at=dt.time(17),
                    )
                )
        for _ in range(2):
            day = FIRST_DAY + dt.timedelta(days=rng.randrange(42))
            session.add(StaffLeave(service_id=service.id, user_id=user.id, starts_on=day, ends_on=day))
    rooms: list[tuple[int, int, str]] = []  # (venue id, room id, kind)
    for v in range(VENUES):
        venue = Venue(service_id=service.id, name=f"Venue {v:02d}", address=f"{v} High Street")
        session.add(venue)
        session.flush()
        opens = dt.time(8) if v % 2 else dt.time(9)
        for weekday in range(5):
            session.add(
                OpeningHours(venue_id=venue.id, weekday=weekday, opens_at=opens, closes_at=dt.time(18))
            )
        for name, kind, capacity in (
            ("Meeting room", "meeting", 10),
            ("Waiting room A", "waiting", 4),
            ("Waiting room B", "waiting", 4),
        ):
            room = Room(service_id=service.id, venue_id=venue.id, name=name, kind=kind, capacity=capacity)
            session.add(room)
            session.flush()
            rooms.append((venue.id, room.id, kind))
    session.commit()

    # Meetings placed at random where everyone is free, until the service's calendar is busy.
    free = _Free()
    meetings: list[dict] = []
    party_ids = iter(range(10_000_000, 20_000_000))
    working_days = [
        FIRST_DAY + dt.timedelta(days=d)
        for d in range(42)
        if (FIRST_DAY + dt.timedelta(days=d)).weekday() < 5
    ]
    failures = 0
    capacity = FACILITATORS * len(working_days) * 8 * 3600
    facilitator_seconds = 0.0
    # Busy but not full: facilitators booked for about 60% of their working time (buffers included).
    while facilitator_seconds < 0.6 * capacity and failures < 5000:
        day = rng.choice(working_days)
        start = dt.datetime.combine(day, dt.time(9, 30), tzinfo=LONDON) + dt.timedelta(
            minutes=15 * rng.randrange(26)
        )
        kind = rng.random()
        minutes = rng.choice([60, 90, 120])
        end = start + dt.timedelta(minutes=minutes)
        if kind < 0.3:  # face to face conference
            venue_id = rng.choice(rooms)[0]
            venue_rooms = [r for r in rooms if r[0] == venue_id]
            people = [("facilitator", u.id) for u in rng.sample(staff, 2)]
            stay = (start - dt.timedelta(minutes=30), end + dt.timedelta(minutes=15))
            wanted = [(*k, *stay) for k in people]
            wanted.append(("room", venue_rooms[0][1], start, end))
            wanted += [("room", venue_rooms[1][1], stay[0] + dt.timedelta(minutes=15), end)]
            wanted += [("room", venue_rooms[2][1], *stay)]
            wanted += [("party", next(party_ids), *stay), ("party", next(party_ids), *stay)]
            fmt = "face_to_face"
        elif kind < 0.7:  # preparation meeting at a venue
            room = rng.choice([r for r in rooms if r[2] == "meeting"])
            wanted = [("facilitator", rng.choice(staff).id, start, end), ("room", room[1], start, end)]
            wanted.append(("party", next(party_ids), start, end))
            fmt = "face_to_face"
        else:  # video
            wanted = [("facilitator", u.id, start, end) for u in rng.sample(staff, rng.choice([1, 2]))]
            wanted += [("party", next(party_ids), start, end), ("party", next(party_ids), start, end)]
            fmt = "video"
        spans = [(k, i, a, b + BUFFER) for k, i, a, b in wanted]
        if not all(free.free((k, i), a, b) for k, i, a, b in spans):
            failures += 1
            continue
        failures = 0
        for k, i, a, b in spans:
            free.take((k, i), a, b)
            if k == "facilitator":
                facilitator_seconds += (b - a).total_seconds()
        meetings.append({"fmt": fmt, "start": start, "end": end, "holds": spans})
    # The searched case's parties have a few meetings of their own.
    for party in case.parties:
        for _ in range(3):
            day = rng.choice(working_days)
            start = dt.datetime.combine(day, dt.time(rng.randrange(9, 16)), tzinfo=LONDON)
            if free.free(("party", party.id), start, start + dt.timedelta(hours=1, minutes=15)):
                free.take(("party", party.id), start, start + dt.timedelta(hours=1, minutes=15))
                meetings.append(
                    {
                        "fmt": "video",
                        "start": start,
                        "end": start + dt.timedelta(hours=1),
                        "holds": [("party", party.id, start, start + dt.timedelta(hours=1, minutes=15))],
                    }
                )

    def write(service_id: int, case_id: int, rows: list[dict]) -> int:
        written = 0
        for chunk in range(0, len(rows), 500):
            batch = rows[chunk : chunk + 500]
            ids = (
                session.execute(
                    insert(Meeting.__table__).returning(Meeting.__table__.c.id),
                    [
                        {
                            "public_id": secrets.token_hex(16),
                            "service_id": service_id,
                            "case_id": case_id,
                            "kind": "conference"
                            if m["fmt"] == "face_to_face" and len(m["holds"]) == 7
                            else "preparation",
                            "format": m["fmt"],
                            "status": "booked",
                            "starts_at": m["start"],
                            "ends_at": m["end"],
                            "sequence": 0,
                            "booked_at": AT,
                            "updated_at": AT,
                        }
                        for m in batch
                    ],
                )
                .scalars()
                .all()
            )
            booking_rows = [
                {
                    "service_id": service_id,
                    "meeting_id": meeting_id,
                    "resource_kind": k,
                    "resource_id": i,
                    "starts_at": a,
                    "ends_at": b,
                }
                for meeting_id, m in zip(ids, batch, strict=True)
                for k, i, a, b in m["holds"]
            ]
            session.execute(insert(ResourceBooking.__table__), booking_rows)
            written += len(booking_rows)
        return written

    own = write(service.id, holder_case.id, meetings)
    # Other services on the platform fill the table to 20,000 bookings in the window.
    others: list[dict] = []
    other_service = make_service("Another area", f"O{secrets.token_hex(2)}")
    other_case = make_ready_case(other_service)
    resource = iter(range(30_000_000, 40_000_000))
    remaining = TOTAL_BOOKINGS - own
    while remaining > 0:
        day = rng.choice(working_days)
        start = dt.datetime.combine(day, dt.time(10), tzinfo=LONDON)
        n = min(remaining, 5)
        others.append(
            {
                "fmt": "video",
                "start": start,
                "end": start + dt.timedelta(hours=1),
                "holds": [
                    ("facilitator", next(resource), start, start + dt.timedelta(hours=1, minutes=15))
                    for _ in range(n)
                ],
            }
        )
        remaining -= n
    write(other_service.id, other_case.id, others)
    session.commit()

    total = session.scalar(
        select(func.count())
        .select_from(ResourceBooking)
        .where(ResourceBooking.starts_at >= dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=LONDON))
    )
    assert total == TOTAL_BOOKINGS
    request = SlotRequest(
        kind="conference",
        format="face_to_face",
        duration=dt.timedelta(minutes=90),
        first_day=FIRST_DAY,
        last_day=LAST_DAY,
        not_before=AT,
    )
    parties = attending_parties(case, "conference", "face_to_face")
    loaded = load_snapshot(session, case, request, AT, parties)
    assert not loaded.snapshot.blockers, loaded.snapshot.blockers
    busy_hours = sum(
        b - a for f in loaded.snapshot.facilitators for a, b in zip(f.busy.starts, f.busy.ends, strict=True)
    )
    return {
        "case": case,
        "request": request,
        "parties": parties,
        "snapshot": loaded.snapshot,
        "own_bookings": own,
        "meetings": len(meetings),
        "facilitator_busy_share": round(busy_hours / 3600 / (FACILITATORS * 30 * 8), 2),
    }


def _describe(benchmark, calendar) -> None:
    benchmark.extra_info["database"] = db.engine.dialect.name
    benchmark.extra_info["bookings_in_window"] = TOTAL_BOOKINGS
    benchmark.extra_info["bookings_of_the_service"] = calendar["own_bookings"]
    benchmark.extra_info["meetings_of_the_service"] = calendar["meetings"]
    benchmark.extra_info["facilitator_busy_share"] = calendar["facilitator_busy_share"]


def test_find_slots_on_a_prepared_snapshot(benchmark, calendar):
    """A face to face conference over six weeks: the best five slots."""
    result = benchmark(find_slots, calendar["request"], calendar["snapshot"])
    _describe(benchmark, calendar)
    assert len(result.slots) == 5
    assert benchmark.stats.stats.median * 1000 < TARGET_MS


def test_find_slots_when_nothing_fits_scans_all_six_weeks(benchmark, calendar):
    """The worst case: every venue's second waiting room is booked for all six weeks, so every
    time in the window gets as far as the rooms before it is refused."""
    snapshot = calendar["snapshot"]
    whole_window = (
        dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=LONDON),
        dt.datetime.combine(LAST_DAY + dt.timedelta(days=1), dt.time(0), tzinfo=LONDON),
    )
    venues = tuple(
        VenueCalendar(
            v.id,
            v.name,
            v.kind,
            v.hours,
            (*v.meeting_rooms, v.waiting_rooms[0], replace(v.waiting_rooms[1], busy=Busy([whole_window]))),
        )
        for v in snapshot.venues
    )
    crippled = replace(snapshot, venues=venues)
    result = benchmark(find_slots, calendar["request"], crippled)
    _describe(benchmark, calendar)
    assert result.slots == ()
    assert "two different free waiting rooms" in result.reasons[0]
    benchmark.extra_info["times_considered"] = result.times_considered
    assert benchmark.stats.stats.median * 1000 < TARGET_MS


def test_load_snapshot_and_find_slots_against_the_database(benchmark, calendar):
    """What the "Find a slot" page does: read the case's calendar, then search."""
    case, request, parties = calendar["case"], calendar["request"], calendar["parties"]

    def search():
        db.session.expire_all()
        loaded = load_snapshot(db.session, case, request, AT, parties)
        return find_slots(request, loaded.snapshot)

    result = benchmark(search)
    _describe(benchmark, calendar)
    assert len(result.slots) == 5
    assert benchmark.stats.stats.median * 1000 < TARGET_MS
