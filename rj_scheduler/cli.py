"""The ``flask --app rj_scheduler rj ...`` command group.

Each capability keeps its commands in its own ``commands.py`` and adds them
here. Every command is one unit of work: it commits once at the end.
"""

from __future__ import annotations

from flask.cli import AppGroup

from rj_scheduler.audit.commands import audit_verify
from rj_scheduler.auth.commands import create_user
from rj_scheduler.demo import demo
from rj_scheduler.notify.commands import dispatch

rj = AppGroup("rj", help="Restorative justice scheduler commands.")
rj.add_command(demo)
rj.add_command(create_user)
rj.add_command(audit_verify)
rj.add_command(dispatch)

__all__ = ["rj"]
