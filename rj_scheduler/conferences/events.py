"""Signals other capabilities listen to when a meeting changes (blinker, which Flask ships).

Each is sent with ``meeting=`` and ``at=`` inside the same unit of work as the
change, after it is flushed, so a receiver's writes (invitations as outbox
messages, using ``meeting.public_id`` as the calendar UID and
``meeting.sequence`` as its SEQUENCE) are committed or rolled back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

meeting_booked = _signals.signal("meeting-booked")
meeting_rescheduled = _signals.signal("meeting-rescheduled")
meeting_postponed = _signals.signal("meeting-postponed")
meeting_cancelled = _signals.signal("meeting-cancelled")
