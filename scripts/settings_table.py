"""Rewrite README.md's settings table from rj_scheduler.config.SETTINGS.

Run `.venv/bin/python scripts/settings_table.py` after adding a setting;
tests/test_config.py fails while the README and the code disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rj_scheduler.config import SETTINGS  # noqa: E402

START, END = "<!-- settings:start -->", "<!-- settings:end -->"


def render() -> str:
    lines = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = "(none)" if s.default is None else f"`{s.default}`"
        lines.append(f"| `{s.env}` | {default} | {s.meaning} |")
    return "\n".join(lines)


def rewrite(text: str) -> str:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{render()}\n{END}{tail}"


if __name__ == "__main__":
    readme = ROOT / "README.md"
    readme.write_text(rewrite(readme.read_text()))
    print(f"wrote {len(SETTINGS)} settings into README.md")
