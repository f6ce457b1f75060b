"""Independent readers agree with the invite: Mozilla's ical.js (Thunderbird), vobject, and Radicale.

Each reads the file we write, with its own VTIMEZONE handling, and must compute the
same UTC start and end as the instants we gave, the same UID and SEQUENCE, across
both of 2026's clock changes (29 March and 25 October, 01:00 UTC) and on the night
itself. Radicale is a real CalDAV server on loopback: it must accept the event, give
it back unchanged in time, and find it by time range exactly between those instants.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
import vobject

from rj_scheduler.invitations.ics import CalendarEvent, build_invite
from tests.notify.peers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
ICAL_CHECK = Path(__file__).resolve().parent / "ical_check.mjs"
LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC


def _london(*fields: int) -> dt.datetime:
    return dt.datetime(*fields, tzinfo=LONDON).astimezone(UTC)  # type: ignore[misc]


# (name, start, end): each event given as UTC instants, chosen around the 2026 clock changes.
CASES = [
    ("day before spring change (GMT)", _london(2026, 3, 28, 10, 0), _london(2026, 3, 28, 11, 30)),
    ("day after spring change (BST)", _london(2026, 3, 30, 10, 0), _london(2026, 3, 30, 11, 30)),
    (
        "across the spring change night",
        dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 00:30 GMT
        dt.datetime(2026, 3, 29, 2, 0, tzinfo=UTC),  # 03:00 BST
    ),
    ("day before autumn change (BST)", _london(2026, 10, 24, 10, 0), _london(2026, 10, 24, 11, 30)),
    ("day after autumn change (GMT)", _london(2026, 10, 26, 10, 0), _london(2026, 10, 26, 11, 30)),
    (
        "00:30 London on the autumn change night",
        _london(2026, 10, 25, 0, 30),  # 23:30 UTC the day before
        _london(2026, 10, 25, 3, 0),  # after the repeated hour
    ),
    (
        "inside the repeated hour",
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 01:30 BST
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 01:30 GMT
    ),
    ("a later year (BST)", _london(2027, 3, 29, 14, 0), _london(2027, 3, 29, 15, 0)),
]
CASE_IDS = [name for name, _, _ in CASES]


def _event(starts_at: dt.datetime, ends_at: dt.datetime, *, sequence: int = 5) -> CalendarEvent:
    return CalendarEvent(
        uid=f"m-{secrets.token_hex(6)}@rj.example.org",
        sequence=sequence,
        stamp=dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
        starts_at=starts_at,
        ends_at=ends_at,
        summary="Appointment with the service",
        description="Your page: https://rj.example.org/i/tok3n",
        location="Side entrance, Warwick Hall,\n1 High Street; Warwick",
        url="https://rj.example.org/i/tok3n",
        organizer_email="appointments@example.org",
        organizer_name="Appointments",
        attendee_email="sam.reader@example.org",
        attendee_name="Sam Reader",
    )


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def ical_js(data: bytes) -> dict:
    """What ical.js (node, from the repository's node_modules) understood of ``data``."""
    node = shutil.which("node")
    assert node, "node is needed to run ical.js"
    done = subprocess.run(
        [node, str(ICAL_CHECK)], input=data, capture_output=True, check=False, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


# --- ical.js ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
@pytest.mark.parametrize(("name", "starts_at", "ends_at"), CASES, ids=CASE_IDS)
def test_ical_js_computes_the_same_utc_start_and_end(name, starts_at, ends_at, method):
    event = _event(starts_at, ends_at)
    read = ical_js(build_invite(event, method))
    assert read["method"] == method
    assert read["timezones"] == ["Europe/London"]
    [seen] = read["events"]
    assert (seen["start_utc"], seen["end_utc"]) == (_iso(starts_at), _iso(ends_at))
    assert seen["uid"] == event.uid
    assert seen["sequence"] == event.sequence
    assert seen["status"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    # It used the file's own Europe/London definition (or UTC for the repeated hour), never floating time.
    assert seen["start_zone"] in ("Europe/London", "UTC")
    assert [attendee["address"] for attendee in seen["attendees"]] == ["mailto:sam.reader@example.org"]
    assert seen["attendees"][0]["rsvp"] == "FALSE"
    assert seen["location"] == event.location


def test_ical_js_reads_a_download_without_attendees():
    event = _event(_london(2026, 10, 26, 10, 0), _london(2026, 10, 26, 11, 0))
    read = ical_js(build_invite(event, "PUBLISH"))
    assert read["method"] == "PUBLISH"
    [seen] = read["events"]
    assert seen["attendees"] == []
    assert seen["start_utc"] == "2026-10-26T10:00:00.000Z"


# --- vobject ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
@pytest.mark.parametrize(("name", "starts_at", "ends_at"), CASES, ids=CASE_IDS)
def test_vobject_computes_the_same_utc_start_and_end(name, starts_at, ends_at, method):
    event = _event(starts_at, ends_at)
    calendar = vobject.readOne(build_invite(event, method).decode("utf-8"))
    assert calendar.method.value == method
    [vevent] = calendar.vevent_list
    assert vevent.dtstart.value.astimezone(UTC) == starts_at
    assert vevent.dtend.value.astimezone(UTC) == ends_at
    assert vevent.uid.value == event.uid
    assert int(vevent.sequence.value) == event.sequence
    assert vevent.status.value == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert [attendee.value for attendee in vevent.attendee_list] == ["mailto:sam.reader@example.org"]
    assert vevent.location.value == event.location


# --- Radicale (CalDAV) --------------------------------------------------------------------------


@dataclass
class Radicale:
    base_url: str
    session: requests.Session

    def new_calendar(self) -> str:
        url = f"{self.base_url}/reader/{secrets.token_hex(8)}/"
        made = self.session.request("MKCALENDAR", url, timeout=30)
        assert made.status_code == 201, made.text
        return url

    def found_between(self, calendar_url: str, start: dt.datetime, end: dt.datetime) -> list[str]:
        """The hrefs a CalDAV time-range query between ``start`` and ``end`` finds."""
        query = f"""<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start.astimezone(UTC):%Y%m%dT%H%M%SZ}" end="{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""
        answer = self.session.request(
            "REPORT",
            calendar_url,
            data=query.encode(),
            headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"},
            timeout=30,
        )
        assert answer.status_code == 207, answer.text
        return [part.split("</", 1)[0] for part in answer.text.split("href>")[1::2]]


@pytest.fixture(scope="module")
def radicale(tmp_path_factory) -> Iterator[Radicale]:
    folder = tmp_path_factory.mktemp("radicale")
    port = free_port()
    log = (folder / "radicale.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "radicale",
            "--config",
            "",
            "--server-hosts",
            f"127.0.0.1:{port}",
            "--auth-type",
            "none",
            "--rights-type",
            "owner_only",
            "--storage-filesystem-folder",
            str(folder / "collections"),
            "--logging-level",
            "warning",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(port, timeout=60)
        session = requests.Session()
        session.auth = ("reader", "any password: authentication is off")
        yield Radicale(f"http://127.0.0.1:{port}", session)
        session.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
@pytest.mark.parametrize(("name", "starts_at", "ends_at"), CASES, ids=CASE_IDS)
def test_radicale_accepts_the_event_and_finds_it_at_the_same_instants(
    radicale, name, starts_at, ends_at, method
):
    event = _event(starts_at, ends_at)
    calendar_url = radicale.new_calendar()
    resource = f"{calendar_url}invite.ics"
    stored = radicale.session.put(
        resource,
        data=build_invite(event, method),
        headers={"Content-Type": "text/calendar; charset=utf-8"},
        timeout=30,
    )
    assert 200 <= stored.status_code < 300, stored.text

    fetched = radicale.session.get(resource, timeout=30)
    assert fetched.status_code == 200
    read = ical_js(fetched.content)
    [seen] = read["events"]
    assert (seen["start_utc"], seen["end_utc"]) == (_iso(starts_at), _iso(ends_at))
    assert (seen["uid"], seen["sequence"]) == (event.uid, event.sequence)
    assert seen["status"] == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")

    # Radicale's own reading of the times: the event overlaps the first and last minute, not the
    # hour before it starts nor the hour after it ends.
    minute, hour = dt.timedelta(minutes=1), dt.timedelta(hours=1)
    path = resource.removeprefix(radicale.base_url)
    assert radicale.found_between(calendar_url, starts_at, starts_at + minute) == [path]
    assert radicale.found_between(calendar_url, ends_at - minute, ends_at) == [path]
    assert radicale.found_between(calendar_url, starts_at - hour, starts_at) == []
    assert radicale.found_between(calendar_url, ends_at, ends_at + hour) == []


def test_radicale_keeps_one_event_per_uid_when_the_cancellation_replaces_the_invite(radicale):
    invite = _event(_london(2026, 10, 26, 10, 0), _london(2026, 10, 26, 11, 0), sequence=2)
    cancellation = dataclasses.replace(invite, sequence=3, cancelled=True)
    calendar_url = radicale.new_calendar()
    resource = f"{calendar_url}invite.ics"
    for event, method in ((invite, "REQUEST"), (cancellation, "CANCEL")):
        stored = radicale.session.put(
            resource, data=build_invite(event, method), headers={"Content-Type": "text/calendar"}, timeout=30
        )
        assert 200 <= stored.status_code < 300, stored.text
    [seen] = ical_js(radicale.session.get(resource, timeout=30).content)["events"]
    assert (seen["uid"], seen["sequence"], seen["status"]) == (invite.uid, 3, "CANCELLED")
