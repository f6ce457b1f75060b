"""``flask rj dispatch``: send the outbox.

Runs until SIGTERM (it then finishes the messages in hand and exits), or with
``--once`` until nothing is due. Several may run against PostgreSQL; on SQLite
a second one refuses to start.
"""

from __future__ import annotations

import click
from flask import current_app

from rj_scheduler.notify.config import sending_config_problems
from rj_scheduler.notify.dispatcher import Dispatcher, single_dispatcher_lock
from rj_scheduler.notify.exceptions import DispatcherAlreadyRunning


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Send everything due now, then exit.")
@click.option("--poll-interval", type=float, default=1.0, show_default=True, help="Seconds between looks.")
def dispatch(once: bool, poll_interval: float) -> None:
    """Send the outbox: SMS through Twilio, email through SMTP (or keep them, with the outbox backends)."""
    config = current_app.config
    problems = sending_config_problems(config)
    if problems:
        raise click.ClickException(" ".join(problems))
    dispatcher = Dispatcher(config, poll_interval=poll_interval)
    click.echo(
        f"Dispatcher {dispatcher.name}: SMS by {dispatcher.sms_backend.name}, "
        f"email by {dispatcher.email_backend.name}{' (once)' if once else ''}.",
        err=True,
    )
    try:
        with single_dispatcher_lock(config["SQLALCHEMY_DATABASE_URI"]), dispatcher.signal_handlers():
            stats = dispatcher.run(once=once)
    except DispatcherAlreadyRunning as refusal:
        raise click.ClickException(str(refusal)) from None
    click.echo(f"Dispatcher {dispatcher.name} finished: {stats.summary()}.", err=True)
