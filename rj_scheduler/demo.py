"""``flask rj demo``: invented demo data (stub)."""

from __future__ import annotations

import click


@click.command("demo")
def demo() -> None:
    """Load invented demo data (idempotent)."""
    raise click.ClickException("not built yet")
