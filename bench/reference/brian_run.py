"""Shared by the Brian2 reference models: selects Brian2's code generation target, runs a network
with the simulation loop timed apart from building the network and from code generation and
compilation, and prints the result lines bench/compare_brian2.sh reads."""
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
    (the run as a whole), loop (Brian2's own measure of its simulation loop), setup (wall - loop:
    what the run does before and after its loop; standalone: the compiled program creating the
    synapses of connect(p=...), loading arrays from disk and writing results), cpu (CPU of the
    run: this process's, or the standalone program's)."""
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
    loop = device._last_run_time
    return dict(codegen=codegen, wall=wall, loop=loop, setup=wall - loop, cpu=cpu)


def report(net_name, until_ms, t_build, t, spikes, n, target, extra=""):
    """The timing line: build = network construction in Python plus the run's set-up (see
    timed_run), so that it compares with Thalia's construction of the network."""
    rate = spikes / n / (until_ms / 1000.0)
    print(f"brian2-{net_name} sim {until_ms / 1000:.2f} s  build {t_build + t['setup']:.3f} s  "
          f"pybuild {t_build:.3f} s  codegen {t['codegen']:.2f} s  wall {t['wall']:.3f} s  "
          f"loop {t['loop']:.3f} s  cpu {t['cpu']:.3f} s  rate {rate:.2f} Hz  spikes {spikes}  "
          f"target {target}{extra}")
