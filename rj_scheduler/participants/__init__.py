"""The participant's private page, ``/i/<token>``: their appointment, their answers, their feedback.

No sign-in: the private link is the key. Every word is in the party's language.
"""
