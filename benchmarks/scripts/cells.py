"""What the measurement scripts share: the commit their report names, and their cells file
(one JSON line per finished cell, so that a rerun skips what is done)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def code_commit() -> str:
    """The short commit of the code that runs ("unknown" outside a git checkout)."""
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "unknown"


def read_cells(path: Path) -> list[dict[str, Any]]:
    """The finished cells of ``path`` (none when it does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
