"""Template helpers: the service name, navigation by role, London times."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Flask, request, url_for
from flask_login import current_user

from rj_scheduler.auth.policy import Permission, can

LONDON = ZoneInfo("Europe/London")
SERVICE_NAME = "Restorative justice scheduler"


def london(value: dt.datetime | None, fmt: str = "%-d %B %Y at %-I:%M%p") -> str:
    """Show a UTC datetime in Europe/London, GOV.UK style (e.g. 3 March 2026 at 2:05pm)."""
    if value is None:
        return ""
    text = value.astimezone(LONDON).strftime(fmt)
    return text.replace("AM", "am").replace("PM", "pm")


# (label, endpoint, permission): later capabilities add entries with add_nav_item.
NAV_ITEMS: list[tuple[str, str, Permission]] = [
    ("Dashboard", "dashboard.index", Permission.VIEW_DASHBOARD),
    ("Staff", "auth.staff_list", Permission.MANAGE_STAFF),
    ("Audit log", "audit.index", Permission.VIEW_AUDIT_LOG),
]


def add_nav_item(label: str, endpoint: str, permission: Permission, position: int | None = None) -> None:
    item = (label, endpoint, permission)
    if item in NAV_ITEMS:
        return
    if position is None:
        NAV_ITEMS.append(item)
    else:
        NAV_ITEMS.insert(position, item)


def navigation() -> list[dict[str, object]]:
    if not current_user.is_authenticated:
        return []
    items = []
    for label, endpoint, permission in NAV_ITEMS:
        if can(current_user, permission):
            href = url_for(endpoint)
            items.append(
                {
                    "text": label,
                    "href": href,
                    "active": (request.path.startswith(href) and href != "/") or request.path == href,
                }
            )
    return items


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.filters["london"] = london

    @app.context_processor
    def inject() -> dict[str, object]:
        return {"service_name": SERVICE_NAME, "navigation": navigation}
