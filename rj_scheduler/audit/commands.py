"""``flask rj audit-verify`` (stub: see audit helper)."""

from __future__ import annotations

import click


@click.command("audit-verify")
def audit_verify() -> None:
    """Check the audit log's hash chains."""
    raise click.ClickException("not built yet")
