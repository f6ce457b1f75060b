"""Property: on small random calendars the slot finder finds exactly what a brute-force search finds.

The brute force below is written separately and simply: every grid time, every
lead and co-facilitator, every venue, meeting room and pair of waiting rooms,
each rule checked directly with datetimes; the best combination per start time
by the issue's ranking; the earliest ``limit`` start times.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from rj_scheduler.conferences.slots import (
    ArrivalSettings,
    Busy,
    CalendarSnapshot,
    DateRanges,
    FacilitatorCalendar,
    PartyCalendar,
    RoomCalendar,
    SlotRequest,
    VenueCalendar,
    WeeklyHours,
    find_slots,
)

LONDON = ZoneInfo("Europe/London")
# A Friday to a Monday across the autumn clock change, and a plain week in summer.
WINDOWS = [(dt.date(2026, 10, 23), dt.date(2026, 10, 26)), (dt.date(2026, 6, 1), dt.date(2026, 6, 3))]
TYPES = [
    ("conference", "face_to_face"),
    ("conference", "video"),
    ("conference", "prison"),
    ("preparation", "face_to_face"),
]


@st.composite
def hours(draw):
    rows = []
    for weekday in range(7):
        if draw(st.integers(0, 3)) == 0:
            continue
        opens = draw(st.integers(7, 11))
        closes = draw(st.integers(opens + 2, 19))
        rows.append((weekday, dt.time(opens), dt.time(closes)))
    return rows


@st.composite
def busy(draw, first: dt.date, last: dt.date):
    days = (last - first).days + 1
    intervals = []
    for _ in range(draw(st.integers(0, 4))):
        day = first + dt.timedelta(days=draw(st.integers(0, days - 1)))
        start = dt.datetime.combine(
            day, dt.time(draw(st.integers(7, 18)), draw(st.sampled_from([0, 15, 30, 45])))
        )
        start = start.replace(tzinfo=LONDON)
        intervals.append((start, start + dt.timedelta(minutes=draw(st.sampled_from([15, 45, 60, 120, 200])))))
    return intervals


@st.composite
def days_off(draw, first: dt.date, last: dt.date):
    days = (last - first).days + 1
    if draw(st.booleans()):
        return ()
    day = first + dt.timedelta(days=draw(st.integers(0, days - 1)))
    return ((day, day),)


@st.composite
def scenarios(draw):
    first, last = draw(st.sampled_from(WINDOWS))
    kind, format_ = draw(st.sampled_from(TYPES))
    facilitators = []
    for fid in range(1, draw(st.integers(2, 4)) + 1):
        facilitators.append(
            {
                "id": fid,
                "hours": draw(hours()),
                "busy": draw(busy(first, last)),
                "leave": draw(days_off(first, last)),
                "trained": draw(st.booleans()),
            }
        )
    venues = []
    room_id = 100
    for vid in range(1, draw(st.integers(1, 3)) + 1):
        rooms = []
        for _ in range(draw(st.integers(0, 5))):
            room_id += 1
            rooms.append(
                {
                    "id": room_id,
                    "kind": draw(st.sampled_from(["meeting", "waiting"])),
                    "capacity": draw(st.integers(1, 8)),
                    "busy": draw(busy(first, last)),
                }
            )
        venues.append(
            {
                "id": vid,
                "kind": draw(st.sampled_from(["office", "office", "prison"])),
                "hours": draw(hours()),
                "rooms": rooms,
            }
        )
    if draw(st.booleans()):
        # A well-equipped office open every weekday, so that face to face conferences often fit.
        rooms = []
        for room_kind in ("meeting", "waiting", "waiting", "waiting"):
            room_id += 1
            rooms.append({"id": room_id, "kind": room_kind, "capacity": 8, "busy": draw(busy(first, last))})
        weekdays = [(d, dt.time(8), dt.time(18)) for d in range(5)]
        venues.append({"id": len(venues) + 1, "kind": "office", "hours": weekdays, "rooms": rooms})
        for f in facilitators[:2]:
            f["hours"] = weekdays
    sides = ["victim"] if kind == "preparation" else ["victim", "offender"]
    if kind == "conference" and draw(st.booleans()):
        sides.append("victim")  # a supporter of the victim
    all_rooms = [r["id"] for v in venues for r in v["rooms"]]
    parties = [
        {
            "id": 1000 + i,
            "side": side,
            "busy": draw(busy(first, last)),
            "unavailable": draw(days_off(first, last)),
            "previous": draw(st.sampled_from([None, *all_rooms])) if all_rooms else None,
        }
        for i, side in enumerate(sides)
    ]
    settings_ = ArrivalSettings(
        victim_arrives_before_start=draw(st.sampled_from([0, 10, 15])),
        offender_arrives_before_victim=draw(st.sampled_from([5, 15, 30])),
        victim_leaves_before_offender=draw(st.sampled_from([5, 15])),
        buffer=draw(st.sampled_from([0, 15, 30])),
    )
    return {
        "first": first,
        "last": last,
        "kind": kind,
        "format": format_,
        "minutes": draw(st.sampled_from([30, 60, 90])),
        "facilitators": facilitators,
        "venues": venues,
        "parties": parties,
        "settings": settings_,
        "lead": draw(st.sampled_from([None, *[f["id"] for f in facilitators]])),
        "sensitive": draw(st.booleans()),
        "bank_holiday": draw(st.sampled_from([None, first, last])),
        "limit": draw(st.integers(1, 6)),
        "not_before_hour": draw(st.sampled_from([0, 12])),
    }


def build(s):
    snapshot = CalendarSnapshot(
        facilitators=tuple(
            FacilitatorCalendar(
                id=f["id"],
                name=f"F{f['id']}",
                hours=WeeklyHours.of(f["hours"]),
                busy=Busy(f["busy"]),
                leave=DateRanges(f["leave"]),
                trained_for_sensitive_cases=f["trained"],
            )
            for f in s["facilitators"]
        ),
        venues=tuple(
            VenueCalendar(
                id=v["id"],
                name=f"V{v['id']}",
                kind=v["kind"],
                hours=WeeklyHours.of(v["hours"]),
                rooms=tuple(
                    RoomCalendar(
                        id=r["id"],
                        name=f"R{r['id']}",
                        kind=r["kind"],
                        capacity=r["capacity"],
                        busy=Busy(r["busy"]),
                    )
                    for r in v["rooms"]
                ),
            )
            for v in s["venues"]
        ),
        parties=tuple(
            PartyCalendar(
                id=p["id"],
                label=p["side"],
                side=p["side"],
                busy=Busy(p["busy"]),
                unavailable=DateRanges(p["unavailable"]),
                previous_room_id=p["previous"],
            )
            for p in s["parties"]
        ),
        bank_holidays=frozenset({s["bank_holiday"]} - {None}),
        settings=s["settings"],
        case_lead_id=s["lead"],
        case_is_sensitive=s["sensitive"],
    )
    request = SlotRequest(
        kind=s["kind"],
        format=s["format"],
        duration=dt.timedelta(minutes=s["minutes"]),
        first_day=s["first"],
        last_day=s["last"],
        not_before=dt.datetime.combine(s["first"], dt.time(s["not_before_hour"]), tzinfo=LONDON),
        grid_minutes=30,
        day_starts=dt.time(7),
        day_ends=dt.time(19),
    )
    return request, snapshot


# --- the brute force ------------------------------------------------------------------------------------


def overlaps(intervals, start, end):
    return any(a < end and start < b for a, b in intervals)


def within(rows, start, end):
    a, b = start.astimezone(LONDON), end.astimezone(LONDON)
    return a.date() == b.date() and any(
        w == a.weekday() and o <= a.time() and b.time() <= c for w, o, c in rows
    )


def on(ranges, day):
    return any(x <= day <= y for x, y in ranges)


def brute_force(s):
    cfg = s["settings"]
    buffer = dt.timedelta(minutes=cfg.buffer)
    staggered = s["kind"] == "conference" and s["format"] == "face_to_face"
    needs_venue = s["format"] in ("face_to_face", "prison")
    people = len(s["parties"]) + (2 if staggered else 1)
    best = {}
    day = s["first"]
    not_before = dt.datetime.combine(s["first"], dt.time(s["not_before_hour"]), tzinfo=LONDON)
    while day <= s["last"]:
        for minutes in range(7 * 60, 19 * 60, 30):
            naive = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60))
            local = naive.replace(tzinfo=LONDON)
            if local.utcoffset() != naive.replace(tzinfo=LONDON, fold=1).utcoffset():
                continue
            if local.astimezone(dt.UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
                continue
            start = local.astimezone(dt.UTC)
            end = start + dt.timedelta(minutes=s["minutes"])
            if start <= not_before or day == s["bank_holiday"]:
                continue
            if staggered:
                victim = (start - dt.timedelta(minutes=cfg.victim_arrives_before_start), end)
                offender = (
                    victim[0] - dt.timedelta(minutes=cfg.offender_arrives_before_victim),
                    end + dt.timedelta(minutes=cfg.victim_leaves_before_offender),
                )
                stay = offender
            else:
                victim = offender = stay = (start, end)
            span = {"victim": victim, "offender": offender}
            if any(on(p["unavailable"], day) for p in s["parties"]):
                continue
            if any(
                overlaps(p["busy"], span[p["side"]][0], span[p["side"]][1] + buffer) for p in s["parties"]
            ):
                continue
            ok_facilitators = [
                f
                for f in s["facilitators"]
                if within(f["hours"], *stay)
                and not on(f["leave"], day)
                and not overlaps(f["busy"], stay[0], stay[1] + buffer)
            ]
            pairs = []
            for lead in ok_facilitators:
                if s["sensitive"] and not lead["trained"]:
                    continue
                if staggered:
                    pairs += [(lead, co) for co in ok_facilitators if co is not lead]
                else:
                    pairs.append((lead, None))
            rooms_options = [(0, 0, 0, 0, 0)] if not needs_venue else []
            for venue in s["venues"] if needs_venue else []:
                if (venue["kind"] == "prison") != (s["format"] == "prison") or not within(
                    venue["hours"], *stay
                ):
                    continue
                meeting = [
                    r
                    for r in venue["rooms"]
                    if r["kind"] == "meeting"
                    and r["capacity"] >= people
                    and not overlaps(r["busy"], start, end + buffer)
                ]
                meeting_ids = [r["id"] for r in meeting]
                if s["format"] == "prison" and not any(r["kind"] == "meeting" for r in venue["rooms"]):
                    meeting_ids = [0]
                for room_id in meeting_ids:
                    if not staggered:
                        moves = sum(
                            1 for p in s["parties"] if p["previous"] is not None and p["previous"] != room_id
                        )
                        rooms_options.append((moves, venue["id"], room_id, 0, 0))
                        continue
                    for vr in venue["rooms"]:
                        for orr in venue["rooms"]:
                            if vr is orr or vr["kind"] != "waiting" or orr["kind"] != "waiting":
                                continue
                            ok = True
                            for side, r in (("victim", vr), ("offender", orr)):
                                size = sum(1 for p in s["parties"] if p["side"] == side)
                                if r["capacity"] < size or overlaps(
                                    r["busy"], span[side][0], span[side][1] + buffer
                                ):
                                    ok = False
                            if not ok:
                                continue
                            by_side = {"victim": vr["id"], "offender": orr["id"]}
                            moves = sum(
                                1
                                for p in s["parties"]
                                if p["previous"] is not None and p["previous"] != by_side[p["side"]]
                            )
                            rooms_options.append((moves, venue["id"], room_id, vr["id"], orr["id"]))
            for lead, co in pairs:
                for moves, venue_id, room_id, vr, orr in rooms_options:
                    key = (
                        start,
                        lead["id"] != s["lead"],
                        moves,
                        lead["id"],
                        co["id"] if co else 0,
                        venue_id,
                        room_id,
                        vr,
                        orr,
                    )
                    if start not in best or key < best[start]:
                        best[start] = key
        day += dt.timedelta(days=1)
    return [best[start] for start in sorted(best)][: s["limit"]]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_slot_finder_finds_exactly_what_a_brute_force_search_finds(s):
    request, snapshot = build(s)
    result = find_slots(request, snapshot, limit=s["limit"])
    found = [slot.rank_key for slot in result.slots]
    event(f"{s['kind']} {s['format']}: {'slots' if found else 'none'}")
    assert found == brute_force(s)
    assert bool(result.slots) != bool(result.reasons)
