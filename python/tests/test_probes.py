"""Trace.replay(probes=...): the values, ticks and spike counts equal the CSV of `thalia replay
--probe` bit for bit, probed spikes are the recorded ones, w_in series name their synapses and
follow plasticity, and a bad probe is a ValueError with the command's message."""

import csv

import numpy as np
import pytest

import thalia
from conftest import TINY, cli

# cortex L2/3 (neurons 100-239 of tiny.json's cortex) has a plastic recurrent pathway (STDP);
# striatum D1 (0-89) a dopamine-gated one from cortex, beside static ones.
PROBES = ["cortex:100-102:v,refractory,w_in", "striatum:0,5:syn_e,w_in.cortex"]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """90 ms of tiny.json with two workers, recorded from Python, with a checkpoint at 15 ms (which
    the trace notes, for replays from a later time)."""
    folder = tmp_path_factory.mktemp("probes")
    path = folder / "run.trace"
    with thalia.Brain(TINY, workers=2) as brain:
        with brain.record(path):
            brain.run(until="15ms")
            brain.save_checkpoint(folder / "at15ms.ckpt")
            brain.run(until="90ms")
    return str(path)


def cli_probe_csv(trace, out, *options):
    args = ["replay", trace, "--probe-out", out, *options]
    cli(*args)
    with open(out, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def float_bits(values):
    return np.asarray(values, dtype=np.float64).astype(np.float32).view(np.uint32)


def test_probes_equal_the_cli_csv_bit_for_bit(recorded, tmp_path):
    result = thalia.Trace(recorded).replay(probes=PROBES, probe_every=7, from_time="20ms", until_time="80ms")
    assert result.identical, result.description
    assert result.started_from.endswith("at15ms.ckpt")
    p = result.probes
    header, rows = cli_probe_csv(recorded, str(tmp_path / "p.csv"), "--probe", PROBES[0], "--probe", PROBES[1],
                                 "--probe-every", "7", "--from", "20ms", "--until", "80ms")
    ticks = np.array([int(r[0]) for r in rows], dtype=np.uint64)
    assert np.array_equal(p.ticks, ticks)
    assert ticks[0] == 203 and ticks[-1] == 798  # multiples of 7 in [200, 800)
    assert np.allclose(p.time_ms, [float(r[1]) for r in rows])
    # The series, in the CSV's column order.
    columns = [f"{r}:{n}:{v}" for r, v, n in p.keys()]
    assert header[2:2 + len(p)] == columns
    assert sum(c.startswith("cortex:100:w_in[src=cortex:") for c in columns) == 50  # indegree of L2/3 -> L2/3
    assert sum(c.startswith("striatum:5:w_in[src=cortex:") for c in columns) == 20  # cortex.L5 -> striatum.D1
    for i, key in enumerate(p.keys()):
        from_csv = [float(r[2 + i]) for r in rows]
        assert np.array_equal(float_bits(p[key]), float_bits(from_csv)), key
    # Spikes: per row, those since the previous row.
    spike_columns = header[2 + len(p):]
    assert spike_columns == [f"{r}:{n}:spikes" for r, n in p.spikes]
    for j, (region, neuron) in enumerate(p.spikes):
        ticks_of = p.spikes[region, neuron]
        counts = np.diff(np.searchsorted(ticks_of, ticks, side="right"), prepend=0)
        assert counts.tolist() == [int(r[2 + len(p) + j]) for r in rows], (region, neuron)


def test_probed_spikes_are_the_recorded_spikes(recorded):
    trace = thalia.Trace(recorded)
    p = trace.replay(probes=["cortex:100-139:v"]).probes
    assert len(p.ticks) == 900 and p.ticks[0] == 0
    recorded_spikes = trace.spikes("cortex")
    total = 0
    for neuron in range(100, 140):
        expected = recorded_spikes.tick[recorded_spikes.neuron == neuron]
        assert np.array_equal(p.spikes["cortex", neuron], expected), neuron
        total += len(expected)
    assert total > 5, "the probed neurons must fire for this test to mean anything"


def test_weights_in_name_their_synapses_and_follow_plasticity(recorded):
    p = thalia.Trace(recorded).replay(probes=["cortex:100,101:w_in", "striatum:5:w_in"]).probes
    weights = p.weights_in("cortex", 100)
    assert len(weights) == 50
    for var in weights:
        s = p.synapses["cortex", var, 100]
        assert s.pathway.startswith("cortex.L23->cortex.L23")
        assert s.source_region == "cortex" and 100 <= s.source < 240
        assert var.startswith(f"w_in[src=cortex:{s.source}")
        assert s.delay_ticks >= 1
    changed = sum(v[0] != v[-1] for v in weights.values())
    assert changed > 0, "STDP must change some weight onto neuron 100 in 90 ms"
    striatum = p.weights_in("striatum", 5)
    assert {p.synapses["striatum", var, 5].source_region for var in striatum} == {"cortex"}
    # v was not asked for: only the weights are series.
    assert all(key in p.synapses for key in p.keys())


@pytest.mark.parametrize("probe, words", [
    ("thalamus:0:v", "no region 'thalamus'"),
    ("pfc:200:v", "neuron 200 is out of range"),
    ("pfc:0:voltage", "no variable 'voltage'"),
    ("cortex:0:w_in", "neuron 0 (cortex.L4) receives no plastic pathway"),
    ("striatum:0:w_in.pfc", "no plastic pathway from 'pfc' into striatum"),
])
def test_a_bad_probe_is_a_value_error_with_the_message_of_the_command(recorded, tmp_path, probe, words):
    with pytest.raises(ValueError) as e:
        thalia.Trace(recorded).replay(probes=[probe])
    assert not isinstance(e.value, thalia.FormatError)
    assert words in str(e.value)
    p = cli("replay", recorded, "--probe", probe, "--probe-out", tmp_path / "x.csv", check=False)
    assert p.returncode == 2
    assert str(e.value) in p.stderr


def test_probe_options_are_checked(recorded):
    trace = thalia.Trace(recorded)
    with pytest.raises(ValueError, match="probe-every"):
        trace.replay(probes=["pfc:0:v"], probe_every=0)
    with pytest.raises(ValueError, match="probe_every goes with probes"):
        trace.replay(probe_every=5)
    with pytest.raises(ValueError, match="give one"):
        trace.replay(from_epoch=1, from_time="10ms")
    assert trace.replay().probes is None
