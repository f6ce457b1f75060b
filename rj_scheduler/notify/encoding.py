"""SMS encoding and segments: GSM-7 when every character fits, UCS-2 otherwise.

A single SMS carries 160 GSM-7 septets or 70 UCS-2 characters; a longer message
is split into segments of 153 septets or 67 characters (the rest of each
segment holds the concatenation header). Characters of the GSM-7 extension
table (``^{}[]~\\|€`` and form feed) take two septets. UCS-2 counts UTF-16 code
units, so an emoji counts as two.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SmsSize:
    """How an SMS text travels: its encoding, length in characters and in units, and segments."""

    encoding: str
    characters: int
    units: int
    segments: int

    @property
    def over_two_segments(self) -> bool:
        return self.segments > 2


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def sms_size(text: str) -> SmsSize:
    """Measure an SMS: encoding, characters, units (septets or UTF-16 code units) and segments."""
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, multi, encoding = 160, 153, GSM7
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, UCS2
    if units == 0:
        segments = 0
    elif units <= single:
        segments = 1
    elif encoding == GSM7:
        segments = _gsm7_segments(text, multi)
    else:
        segments = _ucs2_segments(text, multi)
    return SmsSize(encoding=encoding, characters=len(text), units=units, segments=segments)


def _gsm7_segments(text: str, per_segment: int) -> int:
    # An escape pair is never split across two segments.
    segments, used = 1, 0
    for ch in text:
        size = 2 if ch in GSM7_EXTENSION else 1
        if used + size > per_segment:
            segments += 1
            used = 0
        used += size
    return segments


def _ucs2_segments(text: str, per_segment: int) -> int:
    # A surrogate pair (an emoji) is never split across two segments.
    segments, used = 1, 0
    for ch in text:
        size = 2 if ord(ch) > 0xFFFF else 1
        if used + size > per_segment:
            segments += 1
            used = 0
        used += size
    return segments
