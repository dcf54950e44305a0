"""How trials run: in this process, or in worker processes with a hard time limit.

A trial that hangs or overruns its limit cannot be stopped from inside Python, so when a
limit is set (or trials run in parallel) each trial runs in a long-lived worker process
that is killed and replaced when its trial overruns. Workers receive the search context
once, at start, so a trial costs only the candidate's round trip.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fairautoml.search._trial_process import WorkerError, message, receive, send
from fairautoml.study.trial import SearchContext

TaskFn = Callable[[Any, SearchContext], Any]


class TrialTimeout(Exception):
    """A trial did not finish within its time limit and was stopped."""


class InProcessRunner:
    """Runs each trial directly; no time limit can be enforced (used without a budget)."""

    capacity = 1

    def __init__(self, ctx: SearchContext) -> None:
        self.ctx = ctx
        self._done: list[tuple[int, Any]] = []

    def submit(self, task_id: int, fn: TaskFn, candidate: Any, time_limit: float | None) -> None:
        try:
            self._done.append((task_id, fn(candidate, self.ctx)))
        except Exception as exc:
            self._done.append((task_id, WorkerError(f"{type(exc).__name__}: {exc}")))

    def in_flight(self) -> int:
        return len(self._done)

    def wait_any(self) -> tuple[int, Any]:
        return self._done.pop(0)

    def close(self) -> None:
        self._done.clear()


@dataclass
class _Worker:
    process: subprocess.Popen
    inbox: Any  # we write tasks here
    outbox: Any  # we read results here
    task: tuple[int, float] | None = None  # (task id, deadline)
    ready: bool = False
    starting: threading.Thread | None = None  # writes the context while the worker imports


class ProcessRunner:
    """Runs trials in ``n_workers`` worker processes; kills a trial at its time limit."""

    def __init__(self, ctx: SearchContext, n_workers: int = 1) -> None:
        from fairautoml import learners, mitigators

        self.ctx = ctx
        self.capacity = max(1, int(n_workers))
        self._registries = (learners.LEARNERS.snapshot(), mitigators.MITIGATORS.snapshot())
        self._workers: list[_Worker] = []
        self._timed_out: list[tuple[int, Any]] = []
        self._start_message: bytes | None = None  # the context, pickled once for every worker

    def _spawn(self) -> _Worker:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
        entry = "from fairautoml.search._trial_process import main"
        code = f"{entry}; main({to_child_r}, {from_child_w})"
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=(to_child_r, from_child_w),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        worker = _Worker(process, os.fdopen(to_child_w, "wb"), os.fdopen(from_child_r, "rb"))
        if self._start_message is None:
            self._start_message = message(self.ctx.for_trials(), *self._registries)
        # written by a thread: the pipe takes the context only as fast as the worker reads
        # it, after its imports, and workers started together must import side by side
        # (written here, each waited for the one before: P workers took P imports to start)
        worker.starting = threading.Thread(
            target=_write_quietly, args=(worker.inbox, self._start_message), daemon=True
        )
        worker.starting.start()
        self._workers.append(worker)
        return worker

    @staticmethod
    def _wait_ready(worker: _Worker) -> _Worker:
        if not worker.ready:
            status, _ = receive(worker.outbox)
            if status != "ready":
                raise RuntimeError(f"trial worker failed to start: {status!r}")
            if worker.starting is not None:  # done: the worker read it all before "ready"
                worker.starting.join()
            worker.ready = True
        return worker

    def _idle_worker(self) -> _Worker:
        if not self._workers:  # start them all at once: their imports overlap
            for _ in range(self.capacity):
                self._spawn()
        for worker in self._workers:
            if worker.task is None:
                self._wait_ready(worker)
                return worker
        return self._wait_ready(self._spawn())

    def in_flight(self) -> int:
        return sum(w.task is not None for w in self._workers) + len(self._timed_out)

    def submit(self, task_id: int, fn: TaskFn, candidate: Any, time_limit: float | None) -> None:
        worker = self._idle_worker()
        deadline = time.monotonic() + (time_limit if time_limit is not None else 1e12)
        worker.task = (task_id, deadline)
        send(worker.inbox, (task_id, fn, candidate))

    def wait_any(self) -> tuple[int, Any]:
        """The next finished trial: its result, a TrialTimeout or a WorkerError."""
        if self._timed_out:
            return self._timed_out.pop(0)
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            raise RuntimeError("wait_any() with no trial in flight")
        with selectors.DefaultSelector() as selector:
            for worker in busy:
                selector.register(worker.outbox, selectors.EVENT_READ, worker)
            while True:
                now = time.monotonic()
                nearest = min(w.task[1] for w in busy if w.task is not None)
                events = selector.select(timeout=max(0.0, min(nearest - now, 1.0)))
                if events:
                    worker = events[0][0].data
                    return self._collect(worker)
                for worker in busy:
                    if worker.task is not None and time.monotonic() >= worker.task[1]:
                        task_id = worker.task[0]
                        self._kill(worker)
                        return task_id, TrialTimeout("the trial exceeded its time limit")

    def _collect(self, worker: _Worker) -> tuple[int, Any]:
        assert worker.task is not None
        task_id = worker.task[0]
        try:
            got_id, result = receive(worker.outbox)
            assert got_id == task_id
        except (EOFError, OSError) as exc:
            code = worker.process.poll()
            self._kill(worker)
            return task_id, WorkerError(f"the worker process died (exit code {code}): {exc}")
        worker.task = None
        return task_id, result

    def _kill(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.process.wait()
        for stream in (worker.inbox, worker.outbox):
            with contextlib.suppress(OSError):
                stream.close()
        self._workers.remove(worker)

    def close(self) -> None:
        for worker in list(self._workers):
            self._kill(worker)


def _write_quietly(stream: Any, data: bytes) -> None:
    """Write ``data`` to a worker's pipe; a worker that died is told by its own pipe."""
    with contextlib.suppress(OSError, ValueError):
        stream.write(data)
        stream.flush()


def make_runner(ctx: SearchContext, n_jobs: int, isolate: bool) -> InProcessRunner | ProcessRunner:
    """Worker processes when trials need a time limit or run in parallel."""
    if isolate or n_jobs > 1:
        return ProcessRunner(ctx, n_jobs)
    return InProcessRunner(ctx)
