"""Invitations: what each attendee of a meeting is sent and sees, and what they answer.

Booking a meeting invites every attendee on the channels they allow (email
with a calendar invite, SMS with a private link, or a facilitator's task and a
printable letter); changes send updates, cancellations send cancellations, and
each party sees only their own arrival plan (DOMAIN rules 1, 4, 5, 6, 7).
"""
