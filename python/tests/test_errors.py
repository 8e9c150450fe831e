"""Bad input raises the documented exceptions with the CLI's text, and never crashes the
interpreter; a failed run raises RunError naming the worker, its regions and the epoch."""

import json
import os

import pytest

import thalia
from conftest import TINY, cli


def cli_error(config_path):
    p = cli("run", config_path, "--until", "10ms", "--quiet", check=False)
    assert p.returncode == 2
    return p.stderr.strip().removeprefix("thalia run: ")


def test_wrong_key_in_a_file_is_a_value_error_with_the_cli_text(tmp_path):
    config = json.load(open(TINY))
    config["regions"][0]["sise"] = 10
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(config, indent=2))
    with pytest.raises(ValueError) as e:
        thalia.Brain(path)
    assert str(e.value) == cli_error(path)
    assert "bad.json" in str(e.value)


def test_wrong_type_in_a_dict_is_a_value_error_naming_the_place():
    config = json.load(open(TINY))
    config["regions"][1]["size"] = "many"
    with pytest.raises(ValueError, match="<dict>"):
        thalia.Brain(config)


def test_json_that_does_not_parse_is_a_value_error():
    with pytest.raises(ValueError, match="<json string>"):
        thalia.Brain('{"name": "x", "regions": [')


def test_missing_configuration_file_is_a_value_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="nothing.json"):
        thalia.Brain(tmp_path / "nothing.json")


def test_a_trace_given_as_configuration_says_what_it_is(tmp_path):
    trace = tmp_path / "t.trace"
    with thalia.Brain(TINY, workers=0) as brain, brain.record(trace):
        brain.run(until="5ms")
    with pytest.raises(ValueError, match="is a thalia trace"):
        thalia.Brain(trace)


def test_bad_keyword_values_are_value_errors():
    with pytest.raises(ValueError, match="launch"):
        thalia.Brain(TINY, launch="teleport")
    with pytest.raises(ValueError, match="placement"):
        thalia.Brain(TINY, placement=[0, 1])
    with pytest.raises(ValueError, match="duration"):
        thalia.Brain(TINY, hang_timeout="soon")


def test_spawn_with_a_missing_worker_binary_says_so(tmp_path):
    with pytest.raises(ValueError, match="not executable"):
        thalia.Brain(TINY, workers=2, launch="spawn", worker_binary=tmp_path / "no-thalia")


def test_a_killed_worker_raises_run_error_with_worker_regions_and_epoch(monkeypatch):
    monkeypatch.setenv("THALIA_TEST_WORKER_FAULT", "kill:1:5")
    brain = thalia.Brain(TINY, workers=2)
    worker1 = [w for w in brain.stats() if w["worker"] == 1][0]
    with pytest.raises(thalia.RunError) as e:
        brain.run(until="100ms")
    assert e.value.worker == 1 and e.value.epoch == 5
    assert e.value.regions == worker1["regions"] and e.value.pid == worker1["pid"]
    assert not os.path.exists(f"/proc/{worker1['pid']}")  # reaped, not a zombie
    with pytest.raises(RuntimeError, match="stopped"):
        brain.run(until="200ms")
    brain.close()


def test_a_stalled_worker_is_reported_as_hung(monkeypatch):
    monkeypatch.setenv("THALIA_TEST_WORKER_FAULT", "stall:0:3")
    with thalia.Brain(TINY, workers=2, hang_timeout="300ms") as brain:
        with pytest.raises(thalia.RunError, match="hung") as e:
            brain.run(until="100ms")
        assert e.value.worker == 0 and e.value.epoch == 3


def test_out_of_range_times_and_amounts_are_value_errors():
    with thalia.Brain(TINY, workers=0) as brain:
        with pytest.raises(ValueError, match="longest run"):
            brain.run(until="1e30s")
        with pytest.raises(ValueError, match="ticks must be"):
            brain.inject_spike("cortex", 1, 0.5, tick=-5)
        with pytest.raises(ValueError, match="finite"):
            brain.inject_spike("cortex", 1, float("nan"))
        with pytest.raises(ValueError, match="modulator"):
            brain.add_modulator("serotonin", 1.0)
        brain.run(until="5ms")  # still usable after refusing them
