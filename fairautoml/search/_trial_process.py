"""A trial worker process, started by :class:`~fairautoml.search.runner.ProcessRunner`.

It receives, length-prefixed and cloudpickled, first the search context and the
registries of the parent (so user-registered learners and mitigators work here too),
then tasks ``(task_id, fn, candidate)``; it answers ``(task_id, fn(candidate, ctx))``.
Separate pipes (not stdout) carry the messages, so libraries that print cannot
corrupt them.
"""

from __future__ import annotations

import os
import struct
import traceback
from typing import Any, BinaryIO

import cloudpickle

_HEADER = struct.Struct("!Q")


def message(*parts: Any) -> bytes:
    """``parts`` as one message: length-prefixed, cloudpickled."""
    data = cloudpickle.dumps(parts if len(parts) != 1 else parts[0])
    return _HEADER.pack(len(data)) + data


def send(stream: BinaryIO, obj: Any) -> None:
    stream.write(message(obj))
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other end closed the pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("truncated message")
    return cloudpickle.loads(data)


def main(in_fd: int, out_fd: int) -> None:
    from fairautoml import learners, mitigators

    with os.fdopen(in_fd, "rb") as inbox, os.fdopen(out_fd, "wb") as outbox:
        ctx, learner_registry, mitigator_registry = receive(inbox)
        learners.LEARNERS.restore(learner_registry)
        mitigators.MITIGATORS.restore(mitigator_registry)
        send(outbox, ("ready", None))
        while True:
            try:
                task_id, fn, candidate = receive(inbox)
            except EOFError:
                return
            try:
                result: Any = fn(candidate, ctx)
            except BaseException as exc:  # report, never die silently
                result = WorkerError(f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=5))
            send(outbox, (task_id, result))


class WorkerError(Exception):
    """An exception raised by a task inside a worker, carried back to the parent."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail
