"""Shared helpers of the Python package's tests: the source tree, the CLI and its digest, the example configurations."""

import os
import subprocess

SOURCE_ROOT = os.environ.get("THALIA_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("THALIA_CLI", "thalia")
TINY = os.path.join(SOURCE_ROOT, "examples", "tiny.json")
BRAIN = os.path.join(SOURCE_ROOT, "examples", "brain.json")


def cli(*args, check=True):
    """Runs the thalia command; returns the completed process (stdout and stderr as text)."""
    p = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f"thalia {' '.join(map(str, args))} exited {p.returncode}: {p.stderr}")
    return p


def cli_digest(*args):
    """The digest `thalia run ARGS --quiet` prints, as an int."""
    out = cli("run", *args, "--quiet").stdout
    lines = [l for l in out.splitlines() if l.startswith("digest ")]
    assert len(lines) == 1, out
    return int(lines[0].split()[1], 16)
