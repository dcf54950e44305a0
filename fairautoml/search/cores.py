"""How a search spends the machine's cores: trials trained at once, threads per trial,
and the threads of the steps after the search.

``n_jobs`` is the cores a fit may use (-1: every core this process may run on, as the
operating system's affinity and a container's quota say). Trials trained at once times
threads per trial never exceed it, so nothing is oversubscribed:

- with a time budget, as many trials at once as there are cores (one thread each: small
  models gain most from running side by side), fewer when the table is big enough that a
  worker per core would not fit in the memory available; the cores left over become
  threads of each trial;
- with ``n_trials`` and no time budget, one trial at a time on every core: the order of
  the trials, and so the sampler's proposals, do not depend on timing (LightGBM and
  XGBoost give the same model on 1 and 4 threads, ``tests/test_cores.py``; but other
  multi-threaded steps may not, so only ``n_jobs=1`` is repeatable:
  ``docs/reliability.md``); so too under a budget too short for worker processes to pay
  for their start;
- what trains after the trials (the final refit on every row, the confirmation, the last
  ensemble) on every core. The search's group classifier, which every trial worker calls
  at once, keeps a trial's threads: on every core each, LightGBM's spinning threads
  would oversubscribe the machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from joblib import effective_n_jobs

# A trial worker holds its copy of the trial rows and what its learner builds from them
# (bins, gradients, trees), plus the interpreter and the imported libraries: an estimate
# (three times the rows' bytes), not yet measured per learner.
WORKER_DATA_FACTOR = 3.0
WORKER_BASE_BYTES = 400 * 2**20

# Share of the memory available when the search starts that its workers may take.
MEMORY_SHARE = 0.5


@dataclass(frozen=True)
class CorePlan:
    """The cores a search uses and how: ``trials`` at once, ``threads`` each, and
    ``final_threads`` for the steps after the search."""

    cores: int
    trials: int
    threads: int

    @property
    def final_threads(self) -> int:
        return self.cores

    def describe(self) -> str:
        return (
            f"{self.cores} core(s): {self.trials} trial(s) at once, {self.threads} "
            f"thread(s) each; the final refit on {self.final_threads}"
        )


def usable_cores(n_jobs: int) -> int:
    """The cores ``n_jobs`` stands for (joblib's reading: negative counts from every core
    this process may use, so -1 is all of them)."""
    return max(1, int(effective_n_jobs(n_jobs)))


def available_memory() -> int | None:
    """Bytes of memory available now (Linux's MemAvailable); None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def plan_cores(
    n_jobs: int,
    *,
    side_by_side: bool,
    trial_bytes: int,
    memory: int | None = None,
) -> CorePlan:
    """The plan for ``n_jobs`` (see the module docstring). ``side_by_side``: whether trials
    may train at once (a time budget long enough for worker processes); ``trial_bytes``:
    the size of the rows each trial worker is sent; ``memory``: bytes available (None:
    read now; unknown: no bound)."""
    cores = usable_cores(n_jobs)
    if not side_by_side or cores == 1:
        return CorePlan(cores, 1, cores)
    memory = available_memory() if memory is None else memory
    trials = cores
    if memory is not None:
        per_worker = WORKER_BASE_BYTES + WORKER_DATA_FACTOR * trial_bytes
        trials = max(1, min(cores, int(MEMORY_SHARE * memory // per_worker)))
    return CorePlan(cores, trials, max(1, cores // trials))


__all__ = ["CorePlan", "available_memory", "plan_cores", "usable_cores"]
