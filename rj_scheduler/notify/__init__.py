"""The messaging engine: a transactional outbox, dispatchers, SMS and email backends, webhooks.

Every SMS and email is an outbox message written in the same transaction as the
change that causes it; dispatchers (``flask rj dispatch``) send them afterwards.
See ``docs/messaging.md``.
"""
