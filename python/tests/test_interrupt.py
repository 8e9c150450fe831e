"""Ctrl-C: SIGINT sent to a child interpreter in the middle of a run raises KeyboardInterrupt
between epochs with every worker process reaped, and the brain continues exactly where it was
(on new workers when it had workers)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BRAIN, cli_digest

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
        brain.run(duration="100ms")
        print("continued", brain.tick, f"{brain.digest():016x}", flush=True)
        print("workers", *[w["pid"] for w in brain.stats()], flush=True)
        brain.close()
""")


def interrupt_child(tmp_path, config, workers, launch):
    """Starts the child, lets it run for a second, sends SIGINT; returns the first workers' pids
    and the child's output, by first word."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen([sys.executable, str(script), config, str(workers), launch],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = child.stdout.readline().split()
        assert first and first[0] == "pids", child.stderr.read()
        time.sleep(1.0)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    lines = {l.split()[0]: l.split()[1:] for l in out.splitlines() if l.strip()}
    assert "interrupted" in lines and "continued" in lines, out + err
    return [int(p) for p in first[1:]], lines


@pytest.mark.parametrize("launch", ["fork", "spawn"])
def test_sigint_reaps_every_worker(tmp_path, launch):
    pids, lines = interrupt_child(tmp_path, BRAIN, 2, launch)
    assert len(pids) == 2
    assert lines["interrupted"][2] == "0", lines  # no worker left, not even as a zombie
    assert not set(pids) & {int(p) for p in lines["workers"]}  # the brain continued on new ones
    assert not [p for p in pids + [int(p) for p in lines["workers"]] if os.path.exists(f"/proc/{p}")]


@pytest.mark.parametrize("workers,launch", [(0, "fork"), (2, "fork"), (2, "spawn")])
def test_an_interrupted_brain_continues_exactly(tmp_path, workers, launch):
    _, lines = interrupt_child(tmp_path, BRAIN, workers, launch)
    tick, digest = int(lines["continued"][0]), int(lines["continued"][1], 16)
    assert tick == int(lines["interrupted"][0]) + 1000
    assert digest == cli_digest(BRAIN, "--until", f"{tick // 10}.{tick % 10}ms", "--workers", "0")
