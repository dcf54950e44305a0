"""What a sweep records about what ran it: the git commit of the fairautoml code (dirty
or not), the cores, the load when it started, the packages' versions and the plug-in
methods, so that cells run at different times say which code and machine made them.
"""

from __future__ import annotations

import functools
import os
import platform
from pathlib import Path
from typing import Any

from fairautoml.bench.plugins import METHODS
from fairautoml.bench.specs import (
    SweepConfig,
)


@functools.lru_cache(maxsize=1)
def source_commit() -> str | None:
    """The git commit of the fairautoml code that ran (``+dirty`` with uncommitted changes
    to it), so that cells of one sweep run at different times say which code made them;
    None outside a git checkout."""
    import subprocess

    package = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(
            ["git", "-C", str(package), "rev-parse", "--short", "HEAD"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
        dirty = subprocess.run(
            ["git", "-C", str(package), "status", "--porcelain", "--", str(package)],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def sweep_environment(config: SweepConfig, n_jobs: int) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("fairautoml", "optuna", "flaml", "fairlearn", "lightgbm", "oxonfair", "pandas"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "sweep": config.name,
        "source": config.source,
        "commit": source_commit(),
        "n_jobs": n_jobs,
        "threads_per_cell": config.threads,
        "cpu_count": os.cpu_count(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "plugin_methods": {  # registered from outside the package (plugins.py)
            m.family: f"{METHODS[m.family].fit.__module__}.{METHODS[m.family].fit.__qualname__}"
            for m in config.methods
            if m.family in METHODS
        },
    }
