"""In-process signals of the messaging engine that other capabilities listen to (blinker, which Flask ships).

``sms_reply_received`` is sent inside the webhook's unit of work for a YES, NO
or any other reply (not STOP, START or HELP) from a number that belongs to a
known party, with ``inbound=`` (the InboundMessage), ``parties=`` (every party
of the service holding that number), ``party=`` (the one it was matched to),
``category=`` (``InboundCategory``) and ``at=``. A receiver may answer with the
text to send back to the sender (the first answer wins) and marks the inbound
message handled when it dealt with it; otherwise it waits for the facilitator.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

sms_reply_received = _signals.signal("sms-reply-received")
