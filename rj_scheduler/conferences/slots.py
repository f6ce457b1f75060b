"""The slot finder: the best few times a meeting of a case could be booked, or why there are none.

``find_slots`` is a pure function over a ``CalendarSnapshot`` (everything the
rules need, already read from the database by ``load_snapshot``), so it can be
tested against a brute-force search and measured without a database. A slot is
offered only where every booking rule holds for every attendee:

- the start is on the grid (every ``grid_minutes`` of Europe/London wall-clock
  time), exists and is not ambiguous at a clock change, and is after now;
- the day is not a bank holiday and no attending party is unavailable on it;
- each party, facilitator and room is free for the whole time it is held
  (buffer included, the same intervals the booking service writes);
- each facilitator works then (working pattern) and is not on leave; a
  sensitive case's lead facilitator is trained for such cases;
- the venue is open from the first arrival to the last departure;
- a face to face conference has a lead and a co-facilitator, a meeting room,
  and a different waiting room for each side, each free for that side's whole
  stay (the offender's side arrives first, the victim's side leaves first).

Ranking: earliest start first; at one start time only the best combination
is offered, preferring the case's own lead facilitator, then the fewest room
moves (a party put in a different room from the one they used at their last
meeting of this case), then a stable order of ids so the answer is
reproducible. Busy times are merged, sorted arrays searched with ``bisect``,
so a check costs O(log n) however many bookings there are.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC

# Meeting types the slot finder can search for: (kind, format).
FACE_TO_FACE = "face_to_face"
VIDEO = "video"
PRISON = "prison"
SHUTTLE = "shuttle"


def _ts(value: dt.datetime) -> int:
    if value.tzinfo is None:
        raise ValueError("naive datetime: pass a timezone-aware datetime")
    return int(value.timestamp())


def _utc(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, UTC)


class Busy:
    """One resource's busy time: merged, sorted, non-overlapping half-open intervals in epoch seconds."""

    __slots__ = ("ends", "starts")

    def __init__(self, intervals: Iterable[tuple[dt.datetime, dt.datetime]] = ()) -> None:
        self._merge((_ts(a), _ts(b)) for a, b in intervals)

    @classmethod
    def of_seconds(cls, intervals: Iterable[tuple[int, int]]) -> Busy:
        """From (start, end) pairs already in epoch seconds (as the database can give them)."""
        busy = cls()
        busy._merge(intervals)
        return busy

    def _merge(self, intervals: Iterable[tuple[int, int]]) -> None:
        merged: list[list[int]] = []
        for start, end in sorted(intervals):
            if start >= end:
                continue
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        self.starts = [a for a, _ in merged]
        self.ends = [b for _, b in merged]

    def is_free(self, start: int, end: int) -> bool:
        """True when nothing overlaps [start, end): the first interval ending after ``start`` begins at or after ``end``."""
        i = bisect_right(self.ends, start)
        return i == len(self.ends) or self.starts[i] >= end

    def conflict_end(self, start: int, end: int) -> int | None:
        """None when [start, end) is free; otherwise the end of the first busy interval in the way
        (nothing that starts before then and overlaps it can be free)."""
        i = bisect_right(self.ends, start)
        if i == len(self.ends) or self.starts[i] >= end:
            return None
        return self.ends[i]

    def __len__(self) -> int:
        return len(self.starts)


def _seconds(time: dt.time) -> int:
    return time.hour * 3600 + time.minute * 60 + time.second


@dataclass(frozen=True)
class WeeklyHours:
    """Europe/London wall-clock hours per weekday (Monday is 0); several ranges make a split day."""

    ranges: dict[int, tuple[tuple[dt.time, dt.time], ...]] = field(default_factory=dict)
    # The same ranges in seconds after midnight, for the search's inner loop.
    by_seconds: dict[int, tuple[tuple[int, int], ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seconds = {day: tuple((_seconds(a), _seconds(b)) for a, b in r) for day, r in self.ranges.items()}
        object.__setattr__(self, "by_seconds", seconds)

    @classmethod
    def of(cls, rows: Iterable[tuple[int, dt.time, dt.time]]) -> WeeklyHours:
        by_day: dict[int, list[tuple[dt.time, dt.time]]] = {}
        for weekday, opens, closes in rows:
            by_day.setdefault(weekday, []).append((opens, closes))
        return cls({day: tuple(sorted(r)) for day, r in by_day.items()})

    def covers(self, start: dt.datetime, end: dt.datetime) -> bool:
        """True when the London wall-clock span from ``start`` to ``end`` lies inside one range of one day."""
        return self.covers_local(_local_span(_ts(start), _ts(end)))

    def covers_local(self, span: tuple[int, int, int] | None) -> bool:
        """``covers`` for a London span (weekday, seconds after midnight from, until); None crosses midnight."""
        if span is None:
            return False
        weekday, a, b = span
        return any(opens <= a and b <= closes for opens, closes in self.by_seconds.get(weekday, ()))


def _local_span(start: int, end: int) -> tuple[int, int, int] | None:
    """A stay from ``start`` to ``end`` (epoch seconds) on the London wall clock, or None if it crosses midnight."""
    local_start = _utc(start).astimezone(LONDON)
    local_end = _utc(end).astimezone(LONDON)
    if local_end.date() != local_start.date():
        return None
    return local_start.weekday(), _seconds(local_start.time()), _seconds(local_end.time())


class _Day:
    """One London day of the search: its weekday and, unless the clocks change that day, its UTC offset,
    so wall-clock times of instants on it are simple arithmetic."""

    __slots__ = ("midnight", "offset", "weekday")

    def __init__(self, day: dt.date) -> None:
        self.weekday = day.weekday()
        start = dt.datetime.combine(day, dt.time(0), tzinfo=LONDON)
        end = dt.datetime.combine(day, dt.time(23, 59), tzinfo=LONDON)
        offset = start.utcoffset()
        self.offset = (
            int(offset.total_seconds()) if offset == end.utcoffset() and offset is not None else None
        )
        self.midnight = _ts(start)

    def span(self, start: int, end: int) -> tuple[int, int, int] | None:
        if self.offset is None:
            return _local_span(start, end)
        a, b = start - self.midnight, end - self.midnight
        if a < 0 or b >= 86400:
            return None
        return self.weekday, a, b


@dataclass(frozen=True)
class DateRanges:
    """Whole days (first and last included) someone is away or unavailable."""

    ranges: tuple[tuple[dt.date, dt.date], ...] = ()

    def contains(self, day: dt.date) -> bool:
        return any(first <= day <= last for first, last in self.ranges)


@dataclass(frozen=True)
class FacilitatorCalendar:
    id: int
    name: str
    hours: WeeklyHours
    busy: Busy
    leave: DateRanges = DateRanges()
    trained_for_sensitive_cases: bool = False


@dataclass(frozen=True)
class RoomCalendar:
    id: int
    name: str
    kind: str  # "meeting" or "waiting"
    capacity: int
    busy: Busy


@dataclass(frozen=True)
class VenueCalendar:
    id: int
    name: str
    kind: str  # "office", "community" or "prison"
    hours: WeeklyHours
    rooms: tuple[RoomCalendar, ...]
    # The rooms of each kind by id (the search tries them in this order).
    meeting_rooms: tuple[RoomCalendar, ...] = field(init=False, repr=False, compare=False)
    waiting_rooms: tuple[RoomCalendar, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rooms = sorted(self.rooms, key=lambda r: r.id)
        object.__setattr__(self, "meeting_rooms", tuple(r for r in rooms if r.kind == "meeting"))
        object.__setattr__(self, "waiting_rooms", tuple(r for r in rooms if r.kind == "waiting"))


@dataclass(frozen=True)
class PartyCalendar:
    """An attending party: ``side`` is "victim" or "offender" (a supporter takes the side of who they
    support), or "" for someone who comes for the meeting itself (an interpreter, a professional)."""

    id: int
    label: str
    side: str
    busy: Busy
    unavailable: DateRanges = DateRanges()
    preferred: WeeklyHours | None = None
    previous_room_id: int | None = None


@dataclass(frozen=True)
class ArrivalSettings:
    """A service's arrival plan defaults and booking buffer, in minutes."""

    victim_arrives_before_start: int = 15
    offender_arrives_before_victim: int = 15
    victim_leaves_before_offender: int = 15
    buffer: int = 15


@dataclass(frozen=True)
class CalendarSnapshot:
    """Everything the slot finder reads, for one case and one window (built by ``load_snapshot``)."""

    facilitators: tuple[FacilitatorCalendar, ...]
    venues: tuple[VenueCalendar, ...]
    parties: tuple[PartyCalendar, ...]
    bank_holidays: frozenset[dt.date] = frozenset()
    settings: ArrivalSettings = ArrivalSettings()
    case_lead_id: int | None = None
    case_is_sensitive: bool = False
    # Reasons the case may not have a meeting at all (readiness blockers): no slot is offered while any stands.
    blockers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SlotRequest:
    """What to look for: a meeting ``kind`` and ``format``, its length, and the London dates to search."""

    kind: str  # "preparation" or "conference"
    format: str  # "face_to_face", "video", "prison" or "shuttle"
    duration: dt.timedelta
    first_day: dt.date
    last_day: dt.date
    not_before: dt.datetime
    grid_minutes: int = 15
    day_starts: dt.time = dt.time(7, 0)
    day_ends: dt.time = dt.time(21, 0)
    facilitators_needed: int | None = None

    @property
    def needs_venue(self) -> bool:
        return self.format in (FACE_TO_FACE, PRISON)

    @property
    def staggered(self) -> bool:
        """A face to face conference: separate waiting rooms, staggered arrival and departure."""
        return self.kind == "conference" and self.format == FACE_TO_FACE

    @property
    def facilitator_count(self) -> int:
        """A face to face conference needs a lead and a co-facilitator; other meetings one (or as asked)."""
        if self.facilitators_needed is not None:
            return self.facilitators_needed
        return 2 if self.staggered else 1


@dataclass(frozen=True)
class PartyPlan:
    party_id: int
    label: str
    side: str
    arrives_at: dt.datetime
    departs_at: dt.datetime
    waiting_room_id: int | None = None
    waiting_room_name: str | None = None
    suits_preferred_times: bool = True


@dataclass(frozen=True)
class Slot:
    starts_at: dt.datetime
    ends_at: dt.datetime
    lead_facilitator_id: int
    lead_facilitator_name: str
    co_facilitator_id: int | None
    co_facilitator_name: str | None
    venue_id: int | None
    venue_name: str | None
    room_id: int | None
    room_name: str | None
    parties: tuple[PartyPlan, ...]
    own_lead: bool
    room_moves: int

    @property
    def rank_key(self) -> tuple:
        """Earliest first; then the case's own lead facilitator; then fewest room moves; then lowest ids."""
        rooms = {p.side: p.waiting_room_id or 0 for p in self.parties}
        return (
            self.starts_at,
            not self.own_lead,
            self.room_moves,
            self.lead_facilitator_id,
            self.co_facilitator_id or 0,
            self.venue_id or 0,
            self.room_id or 0,
            rooms.get("victim", 0),
            rooms.get("offender", 0),
        )


@dataclass(frozen=True)
class SlotSearchResult:
    slots: tuple[Slot, ...]
    reasons: tuple[
        str, ...
    ]  # why nothing (or not enough) fits, most common first; empty when slots were found
    times_considered: int


# --- the rules' intervals --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Holds:
    """When each attendee and room is held by a meeting from ``start`` to ``end`` (before the buffer)."""

    meeting: tuple[int, int]
    # side -> (arrives, departs)
    sides: dict[str, tuple[int, int]]
    first_arrival: int
    last_departure: int


def holds_for(request: SlotRequest, settings: ArrivalSettings, start: int) -> Holds:
    """The arrival plan: at a face to face conference the offender's side arrives
    ``offender_arrives_before_victim`` minutes before the victim's, who arrives
    ``victim_arrives_before_start`` before the start; the victim's side leaves at
    the end and the offender's ``victim_leaves_before_offender`` minutes later."""
    end = start + int(request.duration.total_seconds())
    if not request.staggered:
        return Holds(
            (start, end), {"victim": (start, end), "offender": (start, end), "": (start, end)}, start, end
        )
    victim_arrives = start - settings.victim_arrives_before_start * 60
    offender_arrives = victim_arrives - settings.offender_arrives_before_victim * 60
    victim_departs = end
    offender_departs = end + settings.victim_leaves_before_offender * 60
    return Holds(
        (start, end),
        {
            "victim": (victim_arrives, victim_departs),
            "offender": (offender_arrives, offender_departs),
            "": (start, end),
        },
        offender_arrives,
        offender_departs,
    )


_NEVER = 2**62


def _free(busy: Busy, span: tuple[int, int], buffer: int) -> bool:
    return busy.is_free(span[0], span[1] + buffer)


# --- the grid --------------------------------------------------------------------------------------------


def london_time_exists(day: dt.date, time: dt.time) -> bool:
    """False for a wall-clock time skipped when the clocks go forward, or repeated when they go back."""
    naive = dt.datetime.combine(day, time)
    first = naive.replace(tzinfo=LONDON, fold=0)
    second = naive.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() != second.utcoffset():
        return False  # ambiguous (or, for a skipped time, the two folds also differ)
    round_trip = first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    return round_trip == naive


def _grid(request: SlotRequest) -> Iterator[tuple[dt.date, _Day, int]]:
    """Every candidate start, earliest first: (London date, its ``_Day``, start in epoch seconds)."""
    step = request.grid_minutes
    first_minute = request.day_starts.hour * 60 + request.day_starts.minute
    first_minute += -first_minute % step
    last_minute = request.day_ends.hour * 60 + request.day_ends.minute
    not_before = _ts(request.not_before)
    day = request.first_day
    while day <= request.last_day:
        info = _Day(day)
        for minute in range(first_minute, last_minute, step):
            if info.offset is not None:
                start = info.midnight + minute * 60
            else:
                time = dt.time(minute // 60, minute % 60)
                if not london_time_exists(day, time):
                    continue
                start = _ts(dt.datetime.combine(day, time, tzinfo=LONDON))
            if start > not_before:
                yield day, info, start
        day += dt.timedelta(days=1)


def grid(request: SlotRequest) -> Iterator[tuple[dt.date, dt.datetime]]:
    """Every candidate start, earliest first: London dates and wall-clock times on the grid, as UTC."""
    for day, _, start in _grid(request):
        yield day, _utc(start)


# --- reasons ---------------------------------------------------------------------------------------------

REASONS = {
    "blocked": "the case is not ready for a meeting",
    "bank_holiday": "it is a bank holiday",
    "party_unavailable": "a party has said they are unavailable that day",
    "party_busy": "a party already has a meeting then",
    "facilitators_off": "not enough facilitators are at work then (working pattern or leave)",
    "facilitators_busy": "not enough facilitators are free then (other meetings)",
    "trained_lead": "no facilitator trained for sensitive cases is working and free then",
    "venue_closed": "no venue is open for the whole meeting",
    "meeting_room": "no open venue has a free meeting room big enough",
    "waiting_rooms": (
        "no open venue with a free meeting room also has two different free waiting rooms"
        " at the times the parties and facilitators are free"
    ),
    "no_parties": "no party has been chosen to attend",
}


# How far a candidate time got before a rule refused it: the deepest refusals explain the most,
# because every earlier rule held there (e.g. the parties and two facilitators were free, but no rooms).
_DEPTH = {key: depth for depth, key in enumerate(REASONS)}


def _explain(counts: Counter[str], request: SlotRequest, considered: int) -> tuple[str, ...]:
    if not counts:
        return ()
    window = f"{request.first_day:%-d %B %Y} and {request.last_day:%-d %B %Y}"
    reasons = []
    for key, n in sorted(counts.items(), key=lambda item: (-_DEPTH[item[0]], -item[1]))[:3]:
        times = "time" if n == 1 else "times"
        reasons.append(
            f"{REASONS[key][0].upper()}{REASONS[key][1:]} ({n} of {considered} possible {times} between {window})."
        )
    return tuple(reasons)


# --- the search ------------------------------------------------------------------------------------------


def _room_moves(parties: Sequence[PartyCalendar], room_of_side: dict[str, int]) -> int:
    """How many parties would be in a different room from the one they used at their last meeting of the case."""
    moves = 0
    for party in parties:
        if party.previous_room_id is not None and room_of_side.get(party.side) != party.previous_room_id:
            moves += 1
    return moves


@dataclass(frozen=True)
class _Rooms:
    moves: int
    order: tuple[int, ...]
    venue: VenueCalendar
    room: RoomCalendar | None
    waiting: dict[str, RoomCalendar]


def _best_rooms(
    request: SlotRequest,
    snapshot: CalendarSnapshot,
    holds: Holds,
    open_venues: Sequence[VenueCalendar],
    people: int,
    blocked: dict[int, tuple[int, str]],
) -> _Rooms | str:
    """The venue and rooms with the fewest room moves (then the lowest ids) at this time, or why there are none.

    ``blocked`` remembers, per venue, a start before which it cannot work (its rooms are busy until
    then) and why, so later candidate times skip it without checking its rooms again.
    """
    buffer = snapshot.settings.buffer * 60
    start = holds.meeting[0]
    sizes = Counter(p.side for p in snapshot.parties if p.side)
    best: _Rooms | None = None
    reason = "venue_closed"
    depth = {"venue_closed": 0, "meeting_room": 1, "waiting_rooms": 2}
    for venue in open_venues:
        block = blocked.get(venue.id)
        if block is not None and start < block[0]:
            reason = max(reason, block[1], key=depth.__getitem__)
            continue
        meeting_rooms: list[RoomCalendar | None] = []
        meeting_free_from: list[int] = []
        for r in venue.meeting_rooms:
            if r.capacity < people:
                continue
            until = r.busy.conflict_end(holds.meeting[0], holds.meeting[1] + buffer)
            if until is None:
                meeting_rooms.append(r)
            else:
                meeting_free_from.append(until)
        if request.format == PRISON and not venue.meeting_rooms:
            meeting_rooms = [None]  # a prison that books its own rooms: the venue is enough
        if not meeting_rooms:
            blocked[venue.id] = (min(meeting_free_from, default=_NEVER), "meeting_room")
            reason = max(reason, "meeting_room", key=depth.__getitem__)
            continue
        if not request.staggered:
            for room in meeting_rooms:
                rid = room.id if room else 0
                candidate = _Rooms(
                    _room_moves(snapshot.parties, {"victim": rid, "offender": rid, "": rid}),
                    (venue.id, rid),
                    venue,
                    room,
                    {},
                )
                if best is None or (candidate.moves, candidate.order) < (best.moves, best.order):
                    best = candidate
                if best.moves == 0:
                    return best  # venues and rooms come in id order: nothing later can rank higher
            continue
        by_side: dict[str, list[RoomCalendar]] = {"victim": [], "offender": []}
        usable_from: list[int] = []  # per waiting room: the earliest start at which it could serve a side
        for r in venue.waiting_rooms:
            earliest = _NEVER
            for side in ("victim", "offender"):
                if r.capacity < sizes[side]:
                    continue
                arrives, departs = holds.sides[side]
                until = r.busy.conflict_end(arrives, departs + buffer)
                if until is None:
                    by_side[side].append(r)
                    earliest = start
                else:
                    earliest = min(earliest, until + (start - arrives))
            usable_from.append(earliest)
        found = False
        for room in meeting_rooms:
            rid = room.id if room else 0
            for victim_room in by_side["victim"]:
                for offender_room in by_side["offender"]:
                    if victim_room.id == offender_room.id:
                        continue
                    found = True
                    rooms = {"victim": victim_room.id, "offender": offender_room.id, "": rid}
                    candidate = _Rooms(
                        _room_moves(snapshot.parties, rooms),
                        (venue.id, rid, victim_room.id, offender_room.id),
                        venue,
                        room,
                        {"victim": victim_room, "offender": offender_room},
                    )
                    if best is None or (candidate.moves, candidate.order) < (best.moves, best.order):
                        best = candidate
                    if best.moves == 0:
                        return best
        if not found:
            # Two different waiting rooms are needed: none before the second of them could serve.
            usable_from.sort()
            until = usable_from[1] if len(usable_from) > 1 else _NEVER
            if until > start:
                blocked[venue.id] = (until, "waiting_rooms")
            reason = "waiting_rooms"
    return best if best is not None else reason


def _choose_facilitators(
    request: SlotRequest,
    snapshot: CalendarSnapshot,
    at_work: Sequence[FacilitatorCalendar],
    on_leave: set[int],
    holds: Holds,
) -> tuple[FacilitatorCalendar, FacilitatorCalendar | None] | str:
    """Facilitators at work and free from the first arrival to the last departure: the case's own
    lead facilitator if among them, else the lowest id; a co-facilitator by lowest id.

    ``at_work`` holds those whose working pattern covers the stay, the case's own lead facilitator
    first, then the others by id, so the search stops at the first ones that fit."""
    needed = request.facilitator_count
    buffer = snapshot.settings.buffer * 60
    start, end = holds.first_arrival, holds.last_departure + buffer
    sensitive = snapshot.case_is_sensitive
    lead: FacilitatorCalendar | None = None
    others: list[FacilitatorCalendar] = []
    working = free = 0
    for f in at_work:
        if f.id in on_leave:
            continue
        working += 1
        if not f.busy.is_free(start, end):
            continue
        free += 1
        if lead is None and (f.trained_for_sensitive_cases or not sensitive):
            lead = f
        else:
            others.append(f)
        # Later facilitators have higher ids: once one that is not the case's lead is among the others,
        # the lowest-id co-facilitator is known.
        if lead is not None and (needed == 1 or any(o.id != snapshot.case_lead_id for o in others)):
            return lead, (min(others, key=lambda o: o.id) if needed == 2 else None)
    if lead is not None and (needed == 1 or others):
        return lead, (min(others, key=lambda o: o.id) if needed == 2 else None)
    if working < needed:
        return "facilitators_off"
    if free < needed:
        return "facilitators_busy"
    return "trained_lead"


def _prefers(party: PartyCalendar, arrives: int, departs: int) -> bool:
    if party.preferred is None or not party.preferred.ranges:
        return True
    return party.preferred.covers(_utc(arrives), _utc(departs))


def find_slots(request: SlotRequest, snapshot: CalendarSnapshot, limit: int = 5) -> SlotSearchResult:
    """The best ``limit`` slots, earliest first, each one where every booking rule holds; or the reasons why not."""
    if snapshot.blockers:
        return SlotSearchResult((), tuple(snapshot.blockers), 0)
    if not snapshot.parties:
        return SlotSearchResult((), (REASONS["no_parties"].capitalize() + ".",), 0)
    buffer = snapshot.settings.buffer * 60
    people = len(snapshot.parties) + request.facilitator_count
    # Own lead first, then by id: the facilitator search stops at the first that fit.
    ordered = sorted(snapshot.facilitators, key=lambda f: (f.id != snapshot.case_lead_id, f.id))
    venues = sorted(snapshot.venues, key=lambda v: v.id)
    # Who works and which venues are open depend only on the London weekday and times of the stay.
    at_work: dict[tuple[int, int, int] | None, list[FacilitatorCalendar]] = {}
    open_then: dict[tuple[int, int, int] | None, list[VenueCalendar]] = {}
    blocked: dict[int, tuple[int, str]] = {}
    counts: Counter[str] = Counter()
    slots: list[Slot] = []
    considered = 0
    # Facilitators with the same working pattern share one answer to "do they work then?".
    patterns = {id(f): tuple(sorted(f.hours.by_seconds.items())) for f in ordered}
    pattern_hours = {patterns[id(f)]: f.hours for f in ordered}
    current_day: dt.date | None = None
    on_leave: set[int] = set()
    day_refusal: str | None = None
    for day, info, start in _grid(request):
        considered += 1
        if day != current_day:
            current_day = day
            on_leave = {f.id for f in ordered if f.leave.contains(day)}
            day_refusal = None
            if day in snapshot.bank_holidays:
                day_refusal = "bank_holiday"
            elif any(p.unavailable.contains(day) for p in snapshot.parties):
                day_refusal = "party_unavailable"
        if day_refusal is not None:
            counts[day_refusal] += 1
            continue
        holds = holds_for(request, snapshot.settings, start)
        if not all(_free(p.busy, holds.sides[p.side], buffer) for p in snapshot.parties):
            counts["party_busy"] += 1
            continue
        stay_local = info.span(holds.first_arrival, holds.last_departure)
        if stay_local not in at_work:
            working = {key: hours.covers_local(stay_local) for key, hours in pattern_hours.items()}
            at_work[stay_local] = [f for f in ordered if working[patterns[id(f)]]]
            open_then[stay_local] = [
                v
                for v in venues
                if (request.format == PRISON) == (v.kind == "prison") and v.hours.covers_local(stay_local)
            ]
        chosen = _choose_facilitators(request, snapshot, at_work[stay_local], on_leave, holds)
        if isinstance(chosen, str):
            counts[chosen] += 1
            continue
        lead, co = chosen
        rooms: _Rooms | None = None
        if request.needs_venue:
            found = _best_rooms(request, snapshot, holds, open_then[stay_local], people, blocked)
            if isinstance(found, str):
                counts[found] += 1
                continue
            rooms = found
        waiting = rooms.waiting if rooms else {}
        plans = tuple(
            PartyPlan(
                party_id=p.id,
                label=p.label,
                side=p.side,
                arrives_at=_utc(holds.sides[p.side][0]),
                departs_at=_utc(holds.sides[p.side][1]),
                waiting_room_id=waiting[p.side].id if p.side in waiting else None,
                waiting_room_name=waiting[p.side].name if p.side in waiting else None,
                suits_preferred_times=_prefers(p, *holds.sides[p.side]),
            )
            for p in snapshot.parties
        )
        slots.append(
            Slot(
                starts_at=_utc(start),
                ends_at=_utc(holds.meeting[1]),
                lead_facilitator_id=lead.id,
                lead_facilitator_name=lead.name,
                co_facilitator_id=co.id if co else None,
                co_facilitator_name=co.name if co else None,
                venue_id=rooms.venue.id if rooms else None,
                venue_name=rooms.venue.name if rooms else None,
                room_id=rooms.room.id if rooms and rooms.room else None,
                room_name=rooms.room.name if rooms and rooms.room else None,
                parties=plans,
                own_lead=lead.id == snapshot.case_lead_id,
                room_moves=rooms.moves if rooms else 0,
            )
        )
        if len(slots) >= limit:
            break
    reasons = () if slots else _explain(counts, request, considered)
    if not slots and not considered:
        reasons = ("There are no possible times in the window: choose dates in the future.",)
    return SlotSearchResult(tuple(slots), reasons, considered)


# --- loading a snapshot from the database ----------------------------------------------------------------


@dataclass(frozen=True)
class LoadedSnapshot:
    """A snapshot and the public ids of what it names (slots carry primary keys; pages show public ids)."""

    snapshot: CalendarSnapshot
    user_public_ids: dict[int, str]
    venue_public_ids: dict[int, str]
    room_public_ids: dict[int, str]
    party_public_ids: dict[int, str]


def attending_parties(case, kind: str, format: str, party=None) -> list:
    """Who a meeting of this type is with: a conference with a victim and an offender has every victim,
    offender and supporter of the case; a preparation meeting or a shuttle meeting has ``party`` and the
    supporters of their side. Interpreters and other professionals are added on the booking form."""
    from rj_scheduler.conferences.booking import side_of

    people = [p for p in case.parties if p.role in ("victim", "offender", "supporter")]
    if kind == "conference" and format in (FACE_TO_FACE, VIDEO, PRISON):
        return people
    if party is None:
        return []
    side = side_of(party)
    if kind == "preparation":
        return [party] + [p for p in people if p.role == "supporter" and p.supports_party_id == party.id]
    return [p for p in people if side_of(p) == side]


def load_snapshot(session, case, request: SlotRequest, at: dt.datetime, parties: Sequence) -> LoadedSnapshot:
    """Everything ``find_slots`` needs for ``case`` over the request's window, in one query per kind
    of thing (staff, working hours, leave, venues with rooms and hours, bookings, parties' dates,
    the case's earlier rooms), whatever the number of people or bookings."""
    from sqlalchemy import Integer, cast, extract, or_, select
    from sqlalchemy.orm import selectinload

    from rj_scheduler.auth.models import User
    from rj_scheduler.cases.models import CaseState
    from rj_scheduler.cases.working_days import bank_holidays
    from rj_scheduler.conferences import queries
    from rj_scheduler.conferences.booking import readiness_refusals, side_of
    from rj_scheduler.conferences.models import (
        Meeting,
        MeetingAttendee,
        MeetingStatus,
        PartyPreferredTime,
        PartyUnavailability,
        ResourceBooking,
        ResourceKind,
        StaffLeave,
        Venue,
        WorkingHours,
    )

    service_id = case.service_id
    first = dt.datetime.combine(request.first_day - dt.timedelta(days=1), dt.time(0), tzinfo=LONDON)
    last = dt.datetime.combine(request.last_day + dt.timedelta(days=2), dt.time(0), tzinfo=LONDON)

    # Every booking of the service's staff and rooms, and of these parties, in the window, as epoch
    # seconds computed by the database (turning 20,000 rows into datetimes would cost more than the search).
    party_ids = [p.id for p in parties]
    busy: dict[tuple[str, int], list[tuple[int, int]]] = {}
    starts_s = cast(extract("epoch", ResourceBooking.starts_at), Integer)
    ends_s = cast(extract("epoch", ResourceBooking.ends_at), Integer)
    rows = session.execute(
        select(ResourceBooking.resource_kind, ResourceBooking.resource_id, starts_s, ends_s).where(
            ResourceBooking.service_id == service_id,
            ResourceBooking.starts_at < last,
            ResourceBooking.ends_at > first,
            or_(
                ResourceBooking.resource_kind != ResourceKind.PARTY.value,
                ResourceBooking.resource_id.in_(party_ids or [-1]),
            ),
        )
    )
    for kind, resource_id, starts_at, ends_at in rows:
        busy.setdefault((kind, resource_id), []).append((int(starts_at), int(ends_at)))

    staff = session.scalars(
        select(User).where(User.service_id == service_id, User.is_active_account.is_(True)).order_by(User.id)
    ).all()
    hours: dict[int, list[tuple[int, dt.time, dt.time]]] = {}
    for row in session.scalars(select(WorkingHours).where(WorkingHours.service_id == service_id)):
        hours.setdefault(row.user_id, []).append((row.weekday, row.starts_at, row.ends_at))
    leave: dict[int, list[tuple[dt.date, dt.date]]] = {}
    for row in session.scalars(
        select(StaffLeave).where(
            StaffLeave.service_id == service_id,
            StaffLeave.starts_on <= request.last_day,
            StaffLeave.ends_on >= request.first_day,
        )
    ):
        leave.setdefault(row.user_id, []).append((row.starts_on, row.ends_on))
    facilitators = tuple(
        FacilitatorCalendar(
            id=user.id,
            name=user.full_name,
            hours=WeeklyHours.of(hours.get(user.id) or queries.DEFAULT_WORKING_HOURS),
            busy=Busy.of_seconds(busy.get((ResourceKind.FACILITATOR.value, user.id), ())),
            leave=DateRanges(tuple(leave.get(user.id, ()))),
            trained_for_sensitive_cases=user.trained_for_sensitive_cases,
        )
        for user in staff
    )

    venue_rows = session.scalars(
        select(Venue)
        .where(Venue.service_id == service_id, Venue.is_active.is_(True))
        .options(selectinload(Venue.rooms), selectinload(Venue.opening_hours))
        .order_by(Venue.id)
    ).all()
    venues = tuple(
        VenueCalendar(
            id=venue.id,
            name=venue.name,
            kind=venue.kind,
            hours=WeeklyHours.of((h.weekday, h.opens_at, h.closes_at) for h in venue.opening_hours),
            rooms=tuple(
                RoomCalendar(
                    id=room.id,
                    name=room.name,
                    kind=room.kind,
                    capacity=room.capacity,
                    busy=Busy.of_seconds(busy.get((ResourceKind.ROOM.value, room.id), ())),
                )
                for room in venue.rooms
                if room.is_active
            ),
        )
        for venue in venue_rows
    )

    unavailable: dict[int, list[tuple[dt.date, dt.date]]] = {}
    preferred: dict[int, list[tuple[int, dt.time, dt.time]]] = {}
    previous_room: dict[int, int] = {}
    if party_ids:
        for row in session.scalars(
            select(PartyUnavailability).where(
                PartyUnavailability.party_id.in_(party_ids),
                PartyUnavailability.starts_on <= request.last_day,
                PartyUnavailability.ends_on >= request.first_day,
            )
        ):
            unavailable.setdefault(row.party_id, []).append((row.starts_on, row.ends_on))
        for row in session.scalars(
            select(PartyPreferredTime).where(PartyPreferredTime.party_id.in_(party_ids))
        ):
            preferred.setdefault(row.party_id, []).append((row.weekday, row.starts_at, row.ends_at))
        # The room each party last used at a meeting of this case (their waiting room, else the meeting room).
        earlier = session.execute(
            select(MeetingAttendee.party_id, MeetingAttendee.waiting_room_id, Meeting.room_id)
            .join(Meeting, Meeting.id == MeetingAttendee.meeting_id)
            .where(
                Meeting.case_id == case.id,
                MeetingAttendee.party_id.in_(party_ids),
                Meeting.status.in_([MeetingStatus.BOOKED.value, MeetingStatus.HELD.value]),
                Meeting.starts_at.is_not(None),
            )
            .order_by(Meeting.starts_at)
        )
        for party_id, waiting_room_id, room_id in earlier:
            room_id = waiting_room_id or room_id
            if room_id is not None:
                previous_room[party_id] = room_id

    party_calendars = tuple(
        PartyCalendar(
            id=party.id,
            label=f"{party.display_name} ({party.role_label.lower()})",
            side=side_of(party) or "",
            busy=Busy.of_seconds(busy.get((ResourceKind.PARTY.value, party.id), ())),
            unavailable=DateRanges(tuple(unavailable.get(party.id, ()))),
            preferred=WeeklyHours.of(preferred[party.id]) if party.id in preferred else None,
            previous_room_id=previous_room.get(party.id),
        )
        for party in parties
    )

    blockers: list[str] = []
    if case.state == CaseState.CLOSED:
        blockers.append("The case is closed: reopen it before booking a meeting.")
    elif request.kind == "conference" and case.state in (CaseState.CONFERENCE_HELD, CaseState.FOLLOW_UP):
        blockers.append("A conference has already been held for this case.")
    blockers.extend(readiness_refusals(case, request.kind, list(parties), at))

    settings = queries.settings_for(session, service_id)
    snapshot = CalendarSnapshot(
        facilitators=facilitators,
        venues=venues,
        parties=party_calendars,
        bank_holidays=frozenset(d for d in bank_holidays() if request.first_day <= d <= request.last_day),
        settings=ArrivalSettings(
            victim_arrives_before_start=settings.victim_arrives_before_start_minutes,
            offender_arrives_before_victim=settings.offender_arrives_before_victim_minutes,
            victim_leaves_before_offender=settings.victim_leaves_before_offender_minutes,
            buffer=settings.buffer_minutes,
        ),
        case_lead_id=case.lead_facilitator_id,
        case_is_sensitive=case.is_sensitive,
        blockers=tuple(dict.fromkeys(blockers)),
    )
    return LoadedSnapshot(
        snapshot=snapshot,
        user_public_ids={u.id: u.public_id for u in staff},
        venue_public_ids={v.id: v.public_id for v in venue_rows},
        room_public_ids={r.id: r.public_id for v in venue_rows for r in v.rooms},
        party_public_ids={p.id: p.public_id for p in parties},
    )


def draft_for_slot(case, request: SlotRequest, slot: Slot, session, *, video_link: str | None = None):
    """The booking draft a slot stands for (what "Book this slot" fills in), for ``booking_refusals``."""
    from rj_scheduler.auth.models import User
    from rj_scheduler.cases.models import Party
    from rj_scheduler.conferences.booking import MeetingDraft
    from rj_scheduler.conferences.booking import PartyPlan as BookingPartyPlan
    from rj_scheduler.conferences.models import Room, Venue

    return MeetingDraft(
        case=case,
        kind=request.kind,
        format=request.format,
        parties=[
            BookingPartyPlan(
                party=session.get(Party, plan.party_id),
                waiting_room=session.get(Room, plan.waiting_room_id) if plan.waiting_room_id else None,
                arrives_at=plan.arrives_at if request.staggered else None,
                departs_at=plan.departs_at if request.staggered else None,
            )
            for plan in slot.parties
        ],
        lead_facilitator=session.get(User, slot.lead_facilitator_id),
        co_facilitator=session.get(User, slot.co_facilitator_id) if slot.co_facilitator_id else None,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        venue=session.get(Venue, slot.venue_id) if slot.venue_id else None,
        room=session.get(Room, slot.room_id) if slot.room_id else None,
        video_link=video_link,
    )
