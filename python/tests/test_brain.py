"""thalia.Brain: the digest of a run from Python is the CLI's, in every execution mode; inputs,
outputs and keyword arguments behave as documented."""

import json

import numpy as np
import pytest

import thalia
from conftest import BRAIN, TINY, cli_digest


@pytest.fixture(scope="module")
def cli_200ms():
    return cli_digest(TINY, "--until", "200ms", "--workers", "0")


def test_sequential_digest_equals_cli(cli_200ms):
    with thalia.Brain(TINY, workers=0) as brain:
        brain.run(until="200ms")
        assert brain.digest() == cli_200ms


def test_forked_workers_digest_equals_cli(cli_200ms):
    with thalia.Brain(TINY, workers=2, launch="fork") as brain:
        brain.run(until="200ms")
        assert "fork" in brain.executor
        assert brain.digest() == cli_200ms


def test_spawned_workers_digest_equals_cli(cli_200ms):
    with thalia.Brain(TINY, workers=2, launch="spawn") as brain:
        brain.run(until="200ms")
        assert "spawn" in brain.executor
        assert brain.digest() == cli_200ms


def test_cli_with_workers_prints_the_same_digest(cli_200ms):
    assert cli_digest(TINY, "--until", "200ms", "--workers", "2") == cli_200ms


def test_placement_and_seed_match_cli():
    expected = cli_digest(TINY, "--until", "100ms", "--seed", "7", "--placement", "1,0,1,0,1")
    with thalia.Brain(TINY, seed=7, placement=[1, 0, 1, 0, 1]) as brain:
        brain.run(until="100ms")
        assert brain.digest() == expected


def test_dict_and_json_string_build_the_file_brain():
    config = json.load(open(TINY))
    digests = []
    for source in (TINY, config, json.dumps(config)):
        with thalia.Brain(source, workers=0) as brain:
            brain.run(until="50ms")
            digests.append(brain.digest())
    assert digests[0] == digests[1] == digests[2]


def test_step_runs_whole_epochs():
    with thalia.Brain(TINY, workers=0) as brain:
        brain.step(3)
        assert brain.epoch == 3
        assert brain.tick == 3 * brain.epoch_ticks


def test_run_with_duration_adds_to_now():
    with thalia.Brain(TINY, workers=0) as brain:
        brain.run(until="30ms")
        brain.run(duration="20ms")
        assert brain.time_ms == pytest.approx(50.0)


def test_run_refuses_a_time_in_the_past():
    with thalia.Brain(TINY, workers=0) as brain:
        brain.run(until="30ms")
        with pytest.raises(ValueError, match="before the brain's time"):
            brain.run(until="10ms")


def test_spikes_are_numpy_arrays_of_the_region():
    with thalia.Brain(TINY, workers=0) as brain:
        brain.run(until="100ms")
        spikes = brain.spikes("cortex")
        ticks, neurons = spikes
        assert ticks.dtype == np.uint64 and neurons.dtype == np.uint32
        assert len(ticks) == brain.counters()["cortex"]["spikes"] > 0
        assert np.all(np.diff(ticks.astype(np.int64)) >= 0)
        assert neurons.max() < brain.region_size("cortex")
        assert len(brain.spikes("cortex")) == 0  # taken: the next call starts empty


def test_injected_spikes_change_the_run():
    digests = []
    for amount in (0.0, 5.0):
        with thalia.Brain(TINY, workers=0) as brain:
            if amount:
                brain.inject_spike("cortex", np.arange(50), amount, tick=brain.ticks("1ms"))
            brain.run(until="50ms")
            digests.append(brain.digest())
    assert digests[0] != digests[1]


def test_inputs_and_reward_give_the_same_digest_with_workers():
    digests = []
    for workers in (0, 2):
        with thalia.Brain(TINY, workers=workers) as brain:
            brain.inject_spike("cortex", np.arange(20), 0.8, tick=brain.tick + np.arange(0, 200, 20)[:, None])
            brain.set_current(1, 3, 2.5, tick=50)
            brain.run(until="40ms")
            brain.reward(0.5)
            brain.add_modulator("acetylcholine", 0.2)
            brain.run(until="80ms")
            digests.append((brain.digest(), brain.region_digests()))
    assert digests[0] == digests[1]


def test_rates_and_counters_cover_every_region():
    with thalia.Brain(TINY, workers=0) as brain:
        brain.run(until="100ms")
        rates = brain.rates()
        assert list(rates) == brain.regions
        spikes = brain.counters()["cortex"]["spikes"]
        assert rates["cortex"] == pytest.approx(spikes / (brain.region_size("cortex") * 0.1))


def test_region_digests_combine_to_the_digest_of_each_region():
    with thalia.Brain(TINY, workers=0) as a, thalia.Brain(TINY, workers=2) as b:
        a.run(until="60ms")
        b.run(until="60ms")
        assert a.region_digests() == b.region_digests()
        assert set(a.region_digests()) == set(a.regions)


def test_unknown_region_is_a_value_error():
    with thalia.Brain(TINY, workers=0) as brain:
        with pytest.raises(ValueError, match="no region 'nowhere'"):
            brain.spikes("nowhere")


def test_injection_into_a_missing_neuron_is_a_value_error():
    with thalia.Brain(TINY, workers=0) as brain:
        with pytest.raises(ValueError, match="no neuron"):
            brain.inject_spike("cortex", 10**6, 0.5)


def test_closed_brain_refuses_to_run():
    brain = thalia.Brain(TINY, workers=2)
    brain.close()
    assert brain.closed
    with pytest.raises(ValueError, match="closed"):
        brain.run(until="10ms")


def test_threads_give_the_digest_of_one_thread():
    expected = cli_digest(BRAIN, "--until", "100ms", "--workers", "0")
    for workers in (0, 2):
        with thalia.Brain(BRAIN, workers=workers, threads=2) as brain:
            brain.run(until="100ms")
            assert brain.digest() == expected
