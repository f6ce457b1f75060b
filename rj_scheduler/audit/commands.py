"""``flask --app rj_scheduler rj audit-verify``: prove the audit log has not been changed.

It reads the audit log only (no case data, no accounts), so it writes nothing
and can run against a read-only replica.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from rj_scheduler.audit import services as audit
from rj_scheduler.extensions import db


class CheckpointType(click.ParamType):
    """A ``CHAIN:SEQ:HASH`` checkpoint, as logged in an ``audit_checkpoint`` line."""

    name = "CHAIN:SEQ:HASH"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, tuple):
            return value
        try:
            return audit.parse_checkpoint(value)
        except ValueError as error:
            self.fail(f"{value!r}: {error}", param, ctx)


def checkpoints_from_log(path: Path) -> list[tuple[int, int, str]]:
    """The newest checkpoint of each chain found in a JSON application log file."""
    newest: dict[int, tuple[int, int, str]] = {}
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            if "audit_checkpoint" not in line:
                continue
            try:
                value = json.loads(line).get("audit_checkpoint")
                chain_id, seq, digest = audit.parse_checkpoint(str(value))
            except (ValueError, AttributeError):
                continue
            if chain_id not in newest or seq >= newest[chain_id][1]:
                newest[chain_id] = (chain_id, seq, digest)
    return [newest[c] for c in sorted(newest)]


def _entries(count: int) -> str:
    return f"{count:,} {'entry' if count == 1 else 'entries'}"


@click.command("audit-verify")
@click.option(
    "--chain",
    "chain",
    type=int,
    metavar="N",
    help="Verify only chain N (a service's id; chain 0 holds entries with no service). Default: every chain.",
)
@click.option(
    "--checkpoint",
    "checkpoints",
    type=CheckpointType(),
    multiple=True,
    help=(
        "A CHAIN:SEQ:HASH value from an `audit_checkpoint` line of the application log. The entry "
        "must still exist with that hash; this detects deleted newest entries. Repeat for several."
    ),
)
@click.option(
    "--checkpoints-from",
    "log_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the newest checkpoint of each chain from this JSON application log file.",
)
@click.option(
    "--max-problems",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Print at most this many problems per chain (all are counted).",
)
@with_appcontext
def audit_verify(
    chain: int | None,
    checkpoints: tuple[tuple[int, int, str], ...],
    log_file: Path | None,
    max_problems: int,
) -> None:
    """Check the audit log's hash chains and exit non-zero if anything was changed.

    Each service's entries form one chain: every entry carries the hash of the
    one before it, so a changed, inserted or deleted entry breaks the chain.
    Prints one line per chain ("chain 3: 1,204 entries, intact") and one line
    per problem.

    Deleting the newest entries leaves a shorter chain that is still intact.
    To detect it, give the checkpoints the application writes to its log at
    intervals (lines with an `audit_checkpoint` field), with --checkpoint or
    --checkpoints-from.

    Exit status: 0 when every chain and checkpoint checks out, 1 when a problem
    is found, 2 for a mistake in the options.
    """
    wanted = list(checkpoints)
    if log_file is not None:
        wanted.extend(checkpoints_from_log(log_file))
    session = db.session
    chains = set(audit.chain_ids(session)) if chain is None else {chain}
    skipped = [c for c in wanted if chain is not None and c[0] != chain]
    wanted = [c for c in wanted if c not in skipped]
    chains.update(c[0] for c in wanted)
    total_problems = 0
    if not chains:
        click.echo("The audit log has no entries yet.")
    for chain_id in sorted(chains):
        summary = audit.ChainSummary(chain_id)
        problems = printed = 0
        for problem in audit.verify_chain(session, chain_id, summary):
            problems += 1
            if printed < max_problems:
                printed += 1
                click.echo(str(problem))
        for chain_of, seq, digest in wanted:
            if chain_of != chain_id:
                continue
            problem = audit.verify_checkpoint(session, chain_id, seq, digest)
            if problem is not None:
                problems += 1
                printed += 1
                click.echo(str(problem))
        if problems > printed:
            click.echo(f"chain {chain_id}: ... and {problems - printed:,} more problems")
        if summary.entries == 0 and problems == 0:
            click.echo(f"chain {chain_id}: no entries")
        elif problems == 0:
            click.echo(f"chain {chain_id}: {_entries(summary.entries)}, intact")
        else:
            noun = "problem" if problems == 1 else "problems"
            click.echo(f"chain {chain_id}: {_entries(summary.entries)}, {problems:,} {noun}")
        total_problems += problems
    for chain_of, seq, _digest in skipped:
        click.echo(f"checkpoint {chain_of}:{seq} not checked: only chain {chain} was verified")
    if total_problems:
        raise click.ClickException(
            f"The audit log has been changed or damaged: {total_problems:,} "
            f"{'problem' if total_problems == 1 else 'problems'} found."
        )
    click.echo("The audit log is intact.")
