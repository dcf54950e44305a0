"""Virtual environments for anchors whose pins conflict with fairautoml's own.

Each such anchor ships a requirements file next to this module (``NAME.txt``, every
package pinned) and runs its library in a subprocess of that environment's Python
(``run_anchor.py``). :func:`ensure_env` builds the environment on first use under
``$FAIRAUTOML_BENCH_ENVS`` (default ``~/.cache/fairautoml/bench-envs``) as
``NAME-<hash of the requirements and the Python version>``; a file lock makes parallel
cells wait for one build instead of building twice, and a ``.complete`` marker written
last tells a finished environment from a half-built one. A failed build is remembered for
:data:`RETRY_AFTER` seconds (so a sweep without network does not retry pip in every
cell) and every cell that needs it fails with the reason and the fix. :func:`warm` imports
an environment's packages once per process before a cell's clock starts, so the first cell
of a sweep is not charged for reading them from a cold disk (tens of seconds on a fresh
machine) while the others are not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from fairautoml.bench.flaml_fit import file_lock
from fairautoml.exceptions import FairAutoMLError, unknown_name

logger = logging.getLogger("fairautoml.bench")

ENVS_VARIABLE = "FAIRAUTOML_BENCH_ENVS"
HERE = Path(__file__).parent
RUNNER = HERE / "run_anchor.py"  # executed by the environments' Python
COMPLETE = ".complete"
RETRY_AFTER = 900.0  # seconds a failed build is remembered
BUILD_TIMEOUT = 1800.0


class EnvBuildError(FairAutoMLError):
    """An anchor's environment is missing and could not be built."""


def available() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.txt"))


def requirements(name: str) -> Path:
    path = HERE / f"{name}.txt"
    if not path.exists():
        raise unknown_name("bench environment", name, available())
    return path


def envs_root() -> Path:
    given = os.environ.get(ENVS_VARIABLE)
    return Path(given) if given else Path.home() / ".cache" / "fairautoml" / "bench-envs"


def env_dir(name: str) -> Path:
    """Where ``name``'s environment lives: a new directory whenever its pins change."""
    lines = requirements(name).read_text().splitlines()
    pins = sorted(x.split("#")[0].strip() for x in lines if x.split("#")[0].strip())
    text = "\n".join([f"{sys.version_info[0]}.{sys.version_info[1]}", *pins])
    return envs_root() / f"{name}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"


def python_of(env: Path) -> Path:
    return env / "bin" / "python"


def is_ready(name: str) -> bool:
    return (env_dir(name) / COMPLETE).exists()


def _venv_command(env: Path) -> list[str]:
    return [sys.executable, "-m", "venv", str(env)]


def _install_command(python: Path, requirements_file: Path) -> list[str]:
    return [str(python), "-m", "pip", "install", "--no-input", "-r", str(requirements_file)]


def _fix(name: str, env: Path) -> str:
    req = requirements(name)
    return (
        f"Fix: give this machine access to the package index and re-run (--retry-failed), "
        f"or build it by hand: {sys.executable} -m venv {env} && {python_of(env)} -m pip "
        f"install -r {req} && touch {env / COMPLETE}; or point {ENVS_VARIABLE} at a "
        "writable directory."
    )


def ensure_env(name: str) -> Path:
    """The Python of ``name``'s environment, built first if needed (never twice at once)."""
    env = env_dir(name)
    if (env / COMPLETE).exists():
        return python_of(env)
    failed = env.with_name(env.name + ".failed")
    try:
        env.parent.mkdir(parents=True, exist_ok=True)
        with file_lock(env.with_name(env.name + ".lock")):
            if (env / COMPLETE).exists():  # built by another cell while this one waited
                return python_of(env)
            if failed.exists() and time.time() - failed.stat().st_mtime < RETRY_AFTER:
                raise EnvBuildError(
                    f"{failed.read_text()} (remembered from a build attempt at most "
                    f"{RETRY_AFTER:.0f} s ago; delete {failed} to retry now)"
                )
            _build(name, env, failed)
    except OSError as exc:
        raise EnvBuildError(
            f"bench environment {name!r} could not be created at {env}: "
            f"{type(exc).__name__}: {exc}. {_fix(name, env)}"
        ) from None
    return python_of(env)


_WARM: set[str] = set()


def warm(name: str, modules: tuple[str, ...]) -> None:
    """Import ``modules`` once in ``name``'s environment (built first if needed)."""
    if name in _WARM:
        return
    python = ensure_env(name)
    code = "; ".join(f"import {m}" for m in modules)
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise EnvBuildError(
            f"bench environment {name!r} is built but `import {', '.join(modules)}` fails "
            f"in it: {tail}. {_fix(name, env_dir(name))}"
        )
    _WARM.add(name)


def _build(name: str, env: Path, failed: Path) -> None:
    shutil.rmtree(env, ignore_errors=True)  # a half-built one from a killed run
    req = requirements(name)
    logger.info("building the %s environment at %s (once)", name, env)
    started = time.monotonic()
    for command in (_venv_command(env), _install_command(python_of(env), req)):
        try:
            subprocess.run(
                command, check=True, capture_output=True, text=True, timeout=BUILD_TIMEOUT
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            output = getattr(exc, "stderr", None) or getattr(exc, "stdout", None) or str(exc)
            if isinstance(output, bytes):
                output = output.decode(errors="replace")
            tail = " | ".join(str(output).strip().splitlines()[-4:])
            message = (
                f"bench environment {name!r} could not be built at {env}: "
                f"`{' '.join(command)}` failed: {tail[-600:]}. {_fix(name, env)}"
            )
            failed.write_text(message)
            shutil.rmtree(env, ignore_errors=True)
            raise EnvBuildError(message) from None
    seconds = time.monotonic() - started
    failed.unlink(missing_ok=True)
    frozen = subprocess.run(
        [str(python_of(env)), "-m", "pip", "freeze", "--all"], capture_output=True, text=True
    ).stdout.split()
    record = {"name": name, "requirements": str(req), "build_seconds": seconds, "freeze": frozen}
    (env / COMPLETE).write_text(json.dumps(record, indent=1))
    logger.info("built the %s environment in %.0f s", name, seconds)
