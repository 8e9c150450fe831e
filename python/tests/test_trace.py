"""thalia.Trace: spikes equal `thalia trace spikes`, epochs and digests as recorded, replay
verdicts, crash-cut and damaged traces."""

import csv
import io
import shutil

import numpy as np
import pytest

import thalia
from conftest import BRAIN, TINY, cli


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """A 300 ms run of tiny.json with two workers recorded from Python, and its final digest."""
    path = tmp_path_factory.mktemp("trace") / "run.trace"
    with thalia.Brain(TINY, workers=2) as brain:
        with brain.record(path):
            brain.run(until="300ms")
        digest = brain.digest()
    return str(path), digest


@pytest.fixture(scope="module")
def long_trace(tmp_path_factory):
    """2 s of brain.json recorded from Python: several chunks (a chunk holds ~1 MiB of records;
    trace format 2 takes about 1 MB of records per simulated second of brain.json)."""
    path = tmp_path_factory.mktemp("long") / "long.trace"
    with thalia.Brain(BRAIN, workers=0, keep_spikes=False) as brain:
        with brain.record(path):
            brain.run(until="2s")
    return str(path)


def csv_spikes(*args):
    rows = list(csv.reader(io.StringIO(cli("trace", "spikes", *args).stdout)))
    assert rows[0] == ["tick", "time_ms", "region", "neuron"]
    return rows[1:]


def as_rows(spikes):
    names = spikes.region_names
    return [[str(t), f"{t * spikes.dt_ms:.4f}", names[r], str(n)]
            for t, r, n in zip(spikes.tick.tolist(), spikes.region.tolist(), spikes.neuron.tolist())]


def test_spikes_equal_the_cli_csv(recorded):
    path, _ = recorded
    spikes = thalia.Trace(path).spikes()
    rows = csv_spikes(path)
    assert len(rows) > 1000
    assert as_rows(spikes) == rows


def test_spikes_of_one_region_in_a_window_equal_the_cli_csv(recorded):
    path, _ = recorded
    spikes = thalia.Trace(path).spikes("striatum", start="100ms", stop=200)
    rows = csv_spikes(path, "--region", "striatum", "--from", "100ms", "--to", "200ms")
    assert len(rows) > 0
    assert as_rows(spikes) == rows


def test_header_and_counts_describe_the_run(recorded):
    path, _ = recorded
    trace = thalia.Trace(path)
    assert trace.complete
    assert trace.regions == [r["name"] for r in trace.config["regions"]]
    assert trace.duration_ms == pytest.approx(300.0)
    assert sum(trace.spike_counts.values()) == len(trace.spikes())
    assert trace.epochs.spike_counts.sum(axis=0).tolist() == list(trace.spike_counts.values())
    assert trace.epochs.digests.shape == (len(trace.epochs), len(trace.regions))
    assert int(trace.epochs.t1[-1]) == 3000
    info = cli("trace", "info", path).stdout
    assert f"epochs     {len(trace.epochs)} intact" in info


def test_replay_is_identical(recorded):
    path, _ = recorded
    trace = thalia.Trace(path)
    verdict = trace.replay()
    assert verdict.identical and verdict.divergence is None
    assert verdict.epochs == len(trace.epochs)
    assert verdict.spikes == sum(trace.spike_counts.values())
    assert verdict.description == cli("replay", path).stdout.strip()


def test_replay_of_one_region_alone_is_identical(recorded):
    path, _ = recorded
    verdict = thalia.Trace(path).replay("pfc")
    assert verdict.identical, verdict.description


def test_crash_cut_trace_reads_and_replays_its_prefix(long_trace, tmp_path):
    path = long_trace
    data = open(path, "rb").read()
    cut = tmp_path / "cut.trace"
    cut.write_bytes(data[: len(data) * 2 // 3])
    full, part = thalia.Trace(path), thalia.Trace(cut)
    assert not part.complete and part.end_reason
    assert 0 < len(part.epochs) < len(full.epochs)
    n = len(part.epochs)
    assert np.array_equal(part.epochs.digests, full.epochs.digests[:n])
    assert len(part.spikes()) == int(full.epochs.spike_counts[:n].sum())
    verdict = part.replay()
    assert verdict.identical and not verdict.trace_complete


def test_damaged_trace_raises_format_error(recorded, tmp_path):
    path, _ = recorded
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0x5A
    bad = tmp_path / "bad.trace"
    bad.write_bytes(bytes(data))
    with pytest.raises(thalia.FormatError, match="bad.trace"):
        thalia.Trace(bad).spikes()


def test_damaged_trace_reads_its_intact_prefix_when_not_strict(long_trace, tmp_path):
    path = long_trace
    data = bytearray(open(path, "rb").read())
    data[len(data) * 2 // 3] ^= 0x5A  # past the first chunk, as in the cut test
    bad = tmp_path / "bad.trace"
    bad.write_bytes(bytes(data))
    trace = thalia.Trace(bad, strict=False)
    assert not trace.complete
    assert 0 < len(trace.epochs) < len(thalia.Trace(path).epochs)


def test_a_file_that_is_not_a_trace_raises_format_error(tmp_path):
    junk = tmp_path / "junk.trace"
    junk.write_bytes(b"not a trace at all, just some bytes" * 10)
    with pytest.raises(thalia.FormatError):
        thalia.Trace(junk)


def test_a_missing_trace_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        thalia.Trace(tmp_path / "nothing.trace")


def test_an_exception_in_the_record_block_leaves_the_incomplete_trace(tmp_path):
    path = tmp_path / "aborted.trace"
    with thalia.Brain(TINY, workers=0) as brain:
        with pytest.raises(ZeroDivisionError):
            with brain.record(path):
                brain.run(until="50ms")
                1 / 0
    assert not path.exists()
    prefix = thalia.Trace(str(path) + ".incomplete")
    assert not prefix.complete and len(prefix.epochs) > 0


def test_recording_over_a_trace_keeps_the_old_one(recorded, tmp_path):
    path, _ = recorded
    target = tmp_path / "again.trace"
    shutil.copy(path, target)
    with thalia.Brain(TINY, workers=0) as brain:
        with brain.record(target):
            brain.run(until="20ms")
    assert (tmp_path / "again.trace.old").exists()
    assert thalia.Trace(target).duration_ms == pytest.approx(20.0)


def test_a_divergence_is_reported_as_an_object_with_the_cli_text(recorded):
    path, _ = recorded
    verdict = thalia.Trace(path).replay(perturb_weight_for_test="cortex")
    assert not verdict and verdict.divergence is not None
    d = verdict.divergence
    assert d.region in thalia.Trace(path).regions and d.t0 <= d.tick <= d.t1
    assert d.expected_digest != d.got_digest or d.expected != d.got
    p = cli("replay", path, "--perturb-weight-for-test", "cortex", check=False)
    assert p.returncode == 3
    assert verdict.description == p.stdout.strip()
    assert f"diverged at epoch {d.epoch} " in verdict.description


def test_replay_until_an_epoch_stops_there(recorded):
    path, _ = recorded
    verdict = thalia.Trace(path).replay(until_epoch=10)
    assert verdict.identical and verdict.stopped_early and verdict.epochs == 11
