"""``flask rj create-user`` (stub: see auth helper)."""

from __future__ import annotations

import click


@click.command("create-user")
def create_user() -> None:
    """Create a staff user."""
    raise click.ClickException("not built yet")
