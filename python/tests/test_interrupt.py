"""Ctrl-C: SIGINT sent to a child interpreter in the middle of a run raises KeyboardInterrupt
between epochs, with every worker process reaped; a brain run in-process stays usable."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BRAIN, TINY, cli_digest

CHILD = textwrap.dedent("""
    import os, sys
    import thalia
    config, workers, launch = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    brain = thalia.Brain(config, workers=workers, launch=launch)
    pids = [w["pid"] for w in brain.stats()]
    print("pids", *pids, flush=True)
    try:
        brain.run(until="600s")
        print("finished", flush=True)
    except KeyboardInterrupt:
        alive = [p for p in pids if os.path.exists(f"/proc/{p}")]
        print("interrupted", brain.tick, "alive", len(alive), *alive, flush=True)
        try:
            brain.run(duration="100ms")
            print("continued", brain.tick, f"{brain.digest():016x}", flush=True)
        except RuntimeError as e:
            print("refused", e, flush=True)
""")


def interrupt_child(tmp_path, config, workers, launch="fork"):
    """Starts the child, lets it run for a second, sends SIGINT; returns its output lines."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), config, str(workers), launch],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = child.stdout.readline().split()
        assert first and first[0] == "pids", child.stderr.read()
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    return [int(p) for p in first[1:]], out.splitlines()


@pytest.mark.parametrize("launch", ["fork", "spawn"])
def test_sigint_reaps_every_worker_and_the_brain_says_it_stopped(tmp_path, launch):
    pids, lines = interrupt_child(tmp_path, BRAIN, 2, launch)
    assert len(pids) == 2
    interrupted = [l for l in lines if l.startswith("interrupted")]
    assert interrupted, lines
    assert interrupted[0].split()[3] == "0"  # no worker left, not even as a zombie
    assert any(l.startswith("refused") and "interrupted at tick" in l for l in lines), lines
    assert not [p for p in pids if os.path.exists(f"/proc/{p}")]


def test_sigint_leaves_an_in_process_brain_usable_and_exact(tmp_path):
    _, lines = interrupt_child(tmp_path, BRAIN, 0)
    continued = [l.split() for l in lines if l.startswith("continued")]
    assert continued, lines
    tick, digest = int(continued[0][1]), int(continued[0][2], 16)
    assert digest == cli_digest(BRAIN, "--until", f"{tick // 10}.{tick % 10}ms", "--workers", "0")
