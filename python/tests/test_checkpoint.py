"""Checkpoints from Python: a resumed run equals the uninterrupted one (from Python and from the
CLI), thalia.Checkpoint shows what `thalia checkpoint info` shows, damaged files are refused."""

import pytest

import thalia
from conftest import TINY, cli, cli_digest


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A checkpoint at 120 ms of tiny.json (two workers, with inputs and a reward before it) and
    the digest the same run reaches at 300 ms without stopping."""
    path = tmp_path_factory.mktemp("ckpt") / "at120.thck"
    with thalia.Brain(TINY, workers=2) as brain:
        brain.inject_spike("cortex", range(30), 0.7, tick=brain.ticks("10ms"))
        brain.run(until="100ms")
        brain.reward(0.4)
        brain.run(until="120ms")
        brain.save_checkpoint(path)
        brain.run(until="300ms")
        digest = brain.digest()
    return str(path), digest


@pytest.mark.parametrize("workers,launch", [(0, None), (2, "fork"), (2, "spawn")])
def test_resume_equals_the_uninterrupted_run(saved, workers, launch):
    path, digest = saved
    with thalia.resume(path, workers=workers, launch=launch) as brain:
        assert brain.time_ms == pytest.approx(120.0)
        brain.run(until="300ms")
        assert brain.digest() == digest


def test_cli_resume_of_a_python_checkpoint_gives_the_same_digest(saved):
    path, digest = saved
    assert cli_digest("--resume", path, "--until", "300ms") == digest


def test_resume_of_a_cli_checkpoint_equals_the_cli_run(tmp_path):
    cli("run", TINY, "--until", "200ms", "--checkpoint-every", "100ms", "--checkpoint-dir", tmp_path, "--quiet")
    expected = cli_digest(TINY, "--until", "200ms")
    first = sorted(tmp_path.glob("*.thck"))[0]
    with thalia.resume(first) as brain:
        brain.run(until="200ms")
        assert brain.digest() == expected


def test_checkpoint_shows_what_the_cli_shows(saved):
    path, _ = saved
    c = thalia.Checkpoint(path)
    info = cli("checkpoint", "info", path).stdout
    assert f"digest {c.digest:016x}" in info
    assert f"time         tick {c.tick} ({c.time_ms:g} ms), epoch {c.epoch}" in info
    assert c.time_ms == pytest.approx(120.0)
    assert list(c.digests) == c.regions and c.name == "tiny"
    c.verify()


def test_truncated_checkpoint_raises_format_error(saved, tmp_path):
    path, _ = saved
    data = open(path, "rb").read()
    cut = tmp_path / "cut.thck"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(thalia.FormatError, match="cut.thck"):
        thalia.Checkpoint(cut)
    with pytest.raises(thalia.FormatError, match="cut.thck"):
        thalia.resume(cut)


def test_damaged_checkpoint_raises_format_error(saved, tmp_path):
    path, _ = saved
    data = bytearray(open(path, "rb").read())
    data[len(data) - 10] ^= 0xFF
    bad = tmp_path / "bad.thck"
    bad.write_bytes(bytes(data))
    with pytest.raises(thalia.FormatError, match="bad.thck"):
        thalia.resume(bad)


def test_a_trace_is_not_a_checkpoint(tmp_path):
    trace = tmp_path / "t.trace"
    with thalia.Brain(TINY, workers=0) as brain, brain.record(trace):
        brain.run(until="10ms")
    with pytest.raises(thalia.FormatError):
        thalia.Checkpoint(trace)


def test_a_checkpoint_saved_while_recording_is_marked_in_the_trace(tmp_path):
    trace, ckpt = tmp_path / "r.trace", tmp_path / "mid.thck"
    with thalia.Brain(TINY, workers=0) as brain:
        with brain.record(trace):
            brain.run(until="50ms")
            brain.save_checkpoint(ckpt)
            brain.run(until="100ms")
    verdict = thalia.Trace(trace).replay(from_epoch=thalia.Checkpoint(ckpt).epoch + 1)
    assert verdict.identical and verdict.started_from == str(ckpt)
    assert verdict.first_epoch == thalia.Checkpoint(ckpt).epoch


def test_a_resumed_brain_records_a_trace_that_replays(saved, tmp_path):
    path, _ = saved
    trace = tmp_path / "resumed.trace"
    with thalia.resume(path, workers=2) as brain:
        with brain.record(trace):
            brain.run(until="200ms")
    t = thalia.Trace(trace)
    assert t.checkpoint == path
    assert t.replay().identical
    assert cli("replay", trace).returncode == 0
