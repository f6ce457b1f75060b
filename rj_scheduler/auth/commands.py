"""``flask --app rj_scheduler rj create-user``: add a staff user from the command line."""

from __future__ import annotations

import click

from rj_scheduler.auth import services
from rj_scheduler.auth.exceptions import StaffChangeRefused
from rj_scheduler.auth.models import Role


@click.command("create-user")
@click.option("--email", required=True, help="Their email address; they sign in with it.")
@click.option("--name", "full_name", required=True, help="Their full name.")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role], case_sensitive=False),
    help="facilitator, supervisor or manager (a manager has every supervisor right).",
)
@click.option("--service-code", required=True, help="The code of their service, e.g. VF.")
@click.option(
    "--service-name",
    default=None,
    help="Create the service with this name if no service has the code yet.",
)
@click.option(
    "--trained/--not-trained",
    default=False,
    help="Trained to facilitate sensitive cases (domestic abuse, sexual offences, hate crime, under-18s).",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Their password (asked for if not given): 12 characters or more, not a common one.",
)
@click.option(
    "--temporary",
    is_flag=True,
    default=False,
    help="Make them choose their own password when they first sign in.",
)
def create_user(
    email: str,
    full_name: str,
    role: str,
    service_code: str,
    service_name: str | None,
    trained: bool,
    password: str,
    temporary: bool,
) -> None:
    """Create a staff user of a service.

    They set up two-factor authentication the first time they sign in.
    """
    from rj_scheduler.unit_of_work import commit_unit_of_work

    try:
        service = services.find_or_create_service(service_code, service_name)
        user = services.create_staff(
            service,
            email=email,
            full_name=full_name,
            role=role.lower(),
            trained_for_sensitive_cases=trained,
            password=password,
            temporary=temporary,
            by=None,
        )
    except StaffChangeRefused as refusal:
        raise click.ClickException(_explain(refusal)) from refusal
    commit_unit_of_work()
    click.echo(
        f"Created {user.role} {user.email} in {service.name} ({service.code}). "
        "They set up two-factor authentication when they first sign in."
    )


_OPTION_NAMES = {"full_name": "--name", "password": "--password", "service_code": "--service-code"}


def _explain(refusal: StaffChangeRefused) -> str:
    lines = []
    for name, messages in refusal.problems.items():
        option = _OPTION_NAMES.get(name, f"--{name.replace('_', '-')}")
        lines.extend(f"{option}: {message}." for message in messages)
    return "\n".join(lines)
