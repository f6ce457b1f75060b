"""In-process signals other capabilities listen to (blinker, which Flask ships).

``consent_to_take_part_withdrawn`` is sent with ``party=`` and ``at=`` inside
the same unit of work as the withdrawal, so a receiver's changes (cancelling
that party's invitations) are committed or rolled back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

consent_to_take_part_withdrawn = _signals.signal("consent-to-take-part-withdrawn")
