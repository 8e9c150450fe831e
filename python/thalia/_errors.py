"""The exceptions thalia raises, and how an error from the C++ libraries becomes one.

Configuration errors are ValueError (same text as the ``thalia`` command), an unusable trace or
checkpoint is FormatError, and a failed run is RunError, which names the worker, its regions and
the epoch when a worker failed.
"""

import re

__all__ = ["RunError", "FormatError"]


class RunError(RuntimeError):
    """A run failed: a worker died, hung or reported an error, or a file could not be written.

    Attributes:
        message: the whole text, as ``thalia run`` prints it.
        worker: the failed worker's number, or None when no worker failed.
        pid: the failed worker's process id, or None.
        regions: names of the regions the failed worker hosted (empty when no worker failed).
        epoch: the epoch the run was in, or None when unknown.

    The brain that raised it has stopped: its workers are reaped, and later calls raise
    RuntimeError. Resume from a checkpoint to continue.
    """

    def __init__(self, message, worker=None, pid=None, regions=(), epoch=None):
        super().__init__(message)
        self.message = message
        self.worker = worker
        self.pid = pid
        self.regions = list(regions)
        self.epoch = epoch


class FormatError(ValueError):
    """A trace or checkpoint cannot be used: not such a file, damaged, truncated where that is not
    allowed, of another format version, or of another configuration. The message names the file,
    where in it, and what was expected."""


# "worker 1 (pid 4242, regions cortex, pfc) died ..." (sockets) or "MPI rank 2 (worker 1, pid
# 4242, region pfc) ..." (MPI): see transport/socket_executor.cc and mpi_executor.cc.
_WORKER = re.compile(r"worker (\d+)(?: \(|, )pid (\d+), regions? ([^)]*)\)")
_EPOCH = re.compile(r"during epoch (\d+)")


def _run_error(message, epoch):
    worker = pid = None
    regions = []
    m = _WORKER.search(message)
    if m:
        worker, pid = int(m.group(1)), int(m.group(2))
        regions = [r.strip() for r in m.group(3).split(",") if r.strip()]
    e = _EPOCH.search(message)
    if e:
        epoch = int(e.group(1))
    return RunError(message, worker=worker, pid=pid, regions=regions, epoch=epoch)


def make_error(kind, domain, message, epoch):
    """Called by the compiled module: the exception for an error of `kind` met while doing
    `domain` ("config", "file" or "run")."""
    if kind == "corrupt":
        return FormatError(message)
    if kind == "invalid":
        return FormatError(message) if domain == "file" else ValueError(message)
    if kind == "worker" or (kind == "io" and domain == "run"):
        return _run_error(message, epoch)
    if kind == "io":
        return OSError(message)
    return RuntimeError(message)
