"""Imports every capability's models so the metadata (and Alembic) sees them all."""

from rj_scheduler.api import models as api_models
from rj_scheduler.audit import models as audit_models
from rj_scheduler.auth import models as auth_models
from rj_scheduler.cases import models as cases_models
from rj_scheduler.conferences import feeds as calendar_feed_models
from rj_scheduler.conferences import models as conferences_models
from rj_scheduler.invitations import models as invitations_models
from rj_scheduler.notify import models as notify_models
from rj_scheduler.risk import models as risk_models

__all__ = [
    "api_models",
    "audit_models",
    "auth_models",
    "calendar_feed_models",
    "cases_models",
    "conferences_models",
    "invitations_models",
    "notify_models",
    "risk_models",
]
