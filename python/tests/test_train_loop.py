"""examples/train_loop.py: a Python training loop with injected spikes and rewards, recorded with
two workers, replays identically from the CLI and from Trace.replay(), and reaches the digest of
the C++ example (examples/train_loop.cc) for the same trials."""

import os
import subprocess
import sys

import pytest

import thalia
from conftest import SOURCE_ROOT, TINY, cli

SCRIPT = os.path.join(SOURCE_ROOT, "examples", "train_loop.py")


def run_example(*args):
    p = subprocess.run([sys.executable, SCRIPT, TINY, *map(str, args)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout.splitlines()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    trace = tmp_path_factory.mktemp("train") / "train.trace"
    lines = run_example("--trials", "4", "--workers", "2", "--record", trace)
    return str(trace), lines


def test_the_loop_rewards_and_prints_a_digest(trained):
    _, lines = trained
    assert len([l for l in lines if l.startswith("trial")]) == 4
    assert lines[-1].startswith("digest ")


def test_cli_replay_of_the_recorded_loop_is_identical(trained):
    trace, _ = trained
    p = cli("replay", trace)
    assert p.stdout.startswith("identical"), p.stdout


def test_trace_replay_of_the_recorded_loop_is_identical(trained):
    trace, _ = trained
    t = thalia.Trace(trace)
    verdict = t.replay()
    assert verdict.identical, verdict.description
    assert verdict.epochs == len(t.epochs) and t.complete


def test_the_loop_gives_the_same_output_in_this_process(trained, tmp_path):
    _, lines = trained
    assert run_example("--trials", "4", "--workers", "0", "--record", tmp_path / "seq.trace") == lines


def test_the_loop_gives_the_cpp_example_output(trained):
    _, lines = trained
    binary = os.environ.get("THALIA_TRAIN_LOOP")
    if not binary:
        pytest.skip("THALIA_TRAIN_LOOP (the C++ example) not given")
    p = subprocess.run([binary, TINY, "--trials", "4"], capture_output=True, text=True, check=True)
    assert p.stdout.splitlines() == lines
