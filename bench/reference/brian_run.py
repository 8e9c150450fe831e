"""Shared by the Brian2 reference models: selects Brian2's code generation target and runs a
network with the simulation timed apart from code generation and compilation."""
import os
import resource
import tempfile
import time

import brian2 as b2
from brian2.devices.device import get_device

# cython and numpy: Brian2's runtime mode (Python drives the loop, generated code per object).
# standalone: Brian2's C++ standalone mode (the whole simulation is compiled into one program);
# one thread, Brian2's default compiler flags.
TARGETS = ["cython", "numpy", "standalone"]
_workdir = None  # the standalone project folder


def setup(target, workdir=None):
    """Call before creating any Brian2 object. workdir: the standalone project folder (kept, so
    a second run only recompiles what changed); a fresh temporary folder if None."""
    global _workdir
    if target == "standalone":
        if workdir is None:
            workdir = tempfile.mkdtemp(prefix="brian2_standalone_")
        os.makedirs(workdir, exist_ok=True)
        b2.set_device("cpp_standalone", directory=workdir, build_on_run=False)
        _workdir = workdir
    else:
        b2.prefs.codegen.target = target


def _children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def timed_run(net, namespace, duration, target):
    """Runs net for duration. Returns seconds: codegen (code generation and compilation), wall
    (the run as a whole), loop (Brian2's own measure of its simulation loop), cpu (CPU of the run:
    this process's, or the standalone program's, which also loads the network from disk)."""
    device = get_device()
    if target == "standalone":
        net.run(duration, namespace=namespace)  # only records the run into the project
        t0 = time.perf_counter()
        device.build(directory=_workdir, compile=True, run=False)
        codegen = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), _children_cpu()
        device.run(_workdir, with_output=False, run_args=[])
        wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    else:
        # A zero-length run generates and compiles every code object; the timed run then
        # simulates (its set-up only finds the compiled objects in Brian2's cache).
        t0 = time.perf_counter()
        net.run(0 * b2.ms, namespace=namespace)
        codegen = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        net.run(duration, namespace=namespace)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return dict(codegen=codegen, wall=wall, loop=device._last_run_time, cpu=cpu)
