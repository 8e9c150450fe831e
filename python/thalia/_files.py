"""Reading what runs leave behind: thalia.Trace (spikes, epochs, replay) and thalia.Checkpoint."""

import collections
import json
import os

import numpy as np

from . import _thalia
from ._util import duration_ms, ms_to_ticks

__all__ = ["Spikes", "Trace", "Epochs", "ReplayResult", "Divergence", "ProbeData", "Synapse", "Checkpoint"]


class Spikes:
    """Spikes as numpy arrays of equal length, in time order (region order within a tick):

    - ``tick`` (uint64): when, in ticks; ``time_ms`` (float64): the same in ms;
    - ``neuron`` (uint32): which neuron of its region;
    - ``region`` (uint32): the region's number (``region_names[region]`` is its name).

    ``ticks, neurons = spikes`` unpacks the first two.
    """

    def __init__(self, tick, neuron, region, dt_ms, region_names):
        self.tick = tick
        self.neuron = neuron
        self.region = region
        self.dt_ms = dt_ms
        self.region_names = list(region_names)

    @property
    def time_ms(self):
        """Spike times in ms (tick * dt)."""
        return self.tick * self.dt_ms

    def __len__(self):
        return len(self.tick)

    def __iter__(self):
        return iter((self.tick, self.neuron))

    def __repr__(self):
        return f"<thalia.Spikes: {len(self)} spikes>"


class Epochs:
    """Every recorded epoch of a trace, as numpy arrays with one row per epoch:

    - ``epoch``, ``t0``, ``t1`` (uint64): the epoch's number and ticks [t0, t1);
    - ``modulators`` (float32, n x 3): dopamine, acetylcholine, noradrenaline levels at t0;
    - ``events`` (uint64): modulator events applied in the epoch;
    - ``digests`` (uint64, n x regions): each region's state digest at t1;
    - ``spike_counts`` (uint64, n x regions): each region's spikes in the epoch.
    """

    def __init__(self, scan):
        for key in ("epoch", "t0", "t1", "modulators", "events", "digests", "spike_counts"):
            setattr(self, key, scan[key])

    def __len__(self):
        return len(self.epoch)

    def __repr__(self):
        if not len(self):
            return "<thalia.Epochs: none>"
        return f"<thalia.Epochs: {len(self)} epochs, {int(self.epoch[0])}..{int(self.epoch[-1])}>"


class Divergence:
    """Where a replay first differs from its record: ``epoch`` and its ticks ``t0``..``t1``,
    ``region`` (a name, or "modulators"), ``tick`` of the first differing spike (``t1`` when only
    the digest differs), ``expected`` and ``got`` spikes as (tick, neuron) or None, and the
    ``expected_digest`` and ``got_digest`` of the region."""

    def __init__(self, d):
        self.__dict__.update(d)

    def __repr__(self):
        return (f"<thalia.Divergence epoch {self.epoch}, region {self.region}, tick {self.tick}: "
                f"expected {self.expected}, got {self.got}>")


Synapse = collections.namedtuple("Synapse", ["pathway", "source_region", "source", "delay_ticks"])
Synapse.__doc__ = """Where a probed incoming weight (a ``w_in`` series) comes from: its ``pathway``'s name, the
``source_region`` and ``source`` neuron, and its delay in ticks."""


class ProbeData:
    """What the probes of Trace.replay(probes=...) recorded (``thalia replay --probe``), as numpy:

    - ``ticks`` (uint64): the sampled ticks; a value at ``ticks[k]`` is the state after tick
      ``ticks[k]`` was computed, the state a run stepped to ``ticks[k] + 1`` holds;
      ``time_ms``: the same in ms;
    - ``series``: dict (region, var, neuron) -> float64 array, one value per sampled tick (every
      float and int32 of the state is exact in a float64). For an array that is not one value per
      neuron (``path0.post_trace``, ``group3.weight``) the third item is the element's index. A
      ``w_in`` variable gives one series per plastic synapse onto the neuron, its var
      ``"w_in[src=REGION:ID]"`` (``#2``, ``#3`` for further synapses from one source neuron);
    - ``synapses``: dict (region, var, neuron) -> Synapse, for the ``w_in`` series;
    - ``spikes``: dict (region, neuron) -> uint64 array: the spike ticks of each probed neuron
      within the probed window.

    ``probes[region, var, neuron]`` is ``probes.series[region, var, neuron]``; the keys are in the
    order of the columns of ``thalia replay --probe-out FILE.csv``.
    """

    def __init__(self, d):
        self.dt_ms = d["dt_ms"]
        self.ticks = d["ticks"]
        self.series = {}
        self.synapses = {}
        for region, var, index, _per_neuron, values, synapse in d["series"]:
            key = (region, var, int(index))
            self.series[key] = values
            if synapse is not None:
                self.synapses[key] = Synapse(*synapse)
        self.spikes = {(region, int(neuron)): ticks for region, neuron, ticks in d["spikes"]}

    @property
    def time_ms(self):
        """The sampled ticks in ms (tick * dt)."""
        return self.ticks * self.dt_ms

    def weights_in(self, region, neuron):
        """The ``w_in`` series of one probed neuron: dict var -> float64 array, in synapse order."""
        return {var: v for (r, var, n), v in self.series.items()
                if r == region and n == neuron and (r, var, n) in self.synapses}

    def __getitem__(self, key):
        return self.series[key]

    def __len__(self):
        return len(self.series)

    def keys(self):
        """The (region, var, neuron) keys of the series."""
        return self.series.keys()

    def __repr__(self):
        return f"<thalia.ProbeData: {len(self.series)} series, {len(self.ticks)} samples>"


class ReplayResult:
    """The verdict of Trace.replay(): ``identical`` (also its truth value), ``epochs`` and
    ``spikes`` compared, ``divergence`` (a Divergence, or None), ``description`` (the line
    ``thalia replay`` prints), ``trace_complete``, ``started_from`` (a checkpoint, or "") and
    ``first_epoch``; ``probes`` (a ProbeData) when the replay was given probes, else None."""

    def __init__(self, d):
        div = d.pop("divergence")
        probes = d.pop("probes")
        self.__dict__.update(d)
        self.divergence = Divergence(div) if div is not None else None
        self.identical = self.divergence is None
        self.probes = ProbeData(probes) if probes is not None else None

    def __bool__(self):
        return self.identical

    def __str__(self):
        return self.description

    def __repr__(self):
        return f"<thalia.ReplayResult: {self.description}>"


def _existing(path, what):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such {what}")
    return path


class Trace:
    """A trace written by Brain.record or ``thalia run --record``, read without text.

    Opening reads the header and every epoch (not the spikes): ``name``, ``seed``, ``dt_ms``,
    ``epoch_ticks``, ``format_version``, ``regions`` and ``region_sizes``, ``first_epoch`` and
    ``first_tick``, ``checkpoint`` (the checkpoint a resumed run's trace starts from, or None),
    ``complete`` (closed cleanly; False for a crash-cut trace, read up to its last intact chunk,
    with ``end_reason`` and ``dropped``), ``epochs`` (Epochs), ``spike_counts`` (per region) and
    ``config`` (dict). ``strict=False`` reads the intact prefix of a corrupt trace instead of
    raising FormatError (``thalia trace --lenient``).
    """

    def __init__(self, path, *, strict=True):
        self.path = _existing(path, "trace")
        self.strict = strict
        scan = _thalia.scan_trace(self.path, strict)
        self.name = scan["name"]
        self.seed = scan["seed"]
        self.dt_ms = scan["dt_ms"]
        self.epoch_ticks = scan["epoch_ticks"]
        self.format_version = scan["format_version"]
        self.first_epoch = scan["first_epoch"]
        self.first_tick = scan["first_tick"]
        self.checkpoint = scan["checkpoint"] or None
        self.regions = list(scan["region_names"])
        self.region_sizes = dict(zip(self.regions, scan["region_sizes"]))
        self.complete = scan["complete"]
        self.end_reason = scan["end_reason"]
        self.dropped = scan["dropped"]
        self.file_size = scan["file_size"]
        self.epochs = Epochs(scan)
        self.spike_counts = dict(zip(self.regions, (int(n) for n in scan["region_spikes"])))
        self._config_json = scan["config_json"]

    @property
    def config(self):
        """The recorded configuration, as a dict."""
        return json.loads(self._config_json)

    @property
    def duration_ms(self):
        """Simulated time the intact epochs cover, in ms."""
        if not len(self.epochs):
            return 0.0
        return float(self.epochs.t1[-1] - self.epochs.t0[0]) * self.dt_ms

    def rates(self):
        """Per region: mean firing rate (Hz) over the recorded epochs."""
        seconds = self.duration_ms / 1000.0
        return {r: (self.spike_counts[r] / (self.region_sizes[r] * seconds) if seconds > 0 else 0.0)
                for r in self.regions}

    def spikes(self, region=None, start=None, stop=None):
        """The recorded spikes of one region (name or number) or of all, with time in
        [start, stop) (durations: "200ms" or a number of ms), as Spikes, in the order of
        ``thalia trace spikes``."""
        r = -1
        if region is not None:
            if isinstance(region, str):
                if region not in self.regions:
                    raise ValueError(f"no region {region!r} in {self.path}; the regions are "
                                     f"{', '.join(self.regions)}")
                r = self.regions.index(region)
            else:
                r = int(region)
                if not 0 <= r < len(self.regions):
                    raise ValueError(f"no region {region!r} in {self.path}: it has {len(self.regions)}")
        lo = 0 if start is None else ms_to_ticks(duration_ms(start, "start"), self.dt_ms)
        hi = 2**64 - 1 if stop is None else min(ms_to_ticks(duration_ms(stop, "stop"), self.dt_ms), 2**64 - 1)
        lo = min(lo, 2**64 - 1)
        if hi <= lo:
            raise ValueError(f"stop {stop!r} is not after start {start!r}")
        ticks, regions, neurons = _thalia.read_spikes(self.path, r, lo, hi, self.strict)
        return Spikes(ticks, neurons, regions, self.dt_ms, self.regions)

    def replay(self, region=None, *, from_epoch=None, until_epoch=None, from_time=None, until_time=None,
               checkpoint_dir=None, probes=None, probe_every=1, perturb_weight_for_test=None):
        """Re-runs the recorded run in this process and compares every epoch's spikes and
        digests with the record (``thalia replay``). ``region``: that region alone, fed with the
        others' recorded spikes. ``from_epoch``: start at the newest checkpoint at or before it
        (the trace's marks, or ``checkpoint_dir``); ``until_epoch``: stop after it.
        ``from_time``/``until_time`` (durations: "45ms" or a number of ms) do the same for the
        epoch holding that time (``--from TIME``, ``--until TIME``), and bound the probes.

        ``probes``: a list of "REGION:NEURONS:VARS" (``--probe``), e.g. ``["cortex:0-9:v,syn_e",
        "striatum:D1:w_in"]``: the variables (``thalia regions --vars``; ``w_in`` for the weights
        onto a neuron through plastic pathways, ``w_in.SOURCE`` for those from one region or
        population) recomputed tick by tick and sampled after every tick that is a multiple of
        ``probe_every``, from ``from_time`` (or the first tick of ``from_epoch``) to before
        ``until_time``; they are in ``result.probes``, a ProbeData. A bad probe raises ValueError
        with the message of ``thalia replay``.

        Returns a ReplayResult; a divergence is a result, not an exception.
        ``perturb_weight_for_test`` (a region name) changes one of its weights first, to see a
        divergence reported."""
        if from_epoch is not None and from_time is not None:
            raise ValueError("from_epoch and from_time: give one")
        if until_epoch is not None and until_time is not None:
            raise ValueError("until_epoch and until_time: give one")
        if isinstance(probes, str):
            probes = [probes]
        probes = [str(p) for p in (probes or [])]
        if not probes and probe_every != 1:
            raise ValueError("probe_every goes with probes")
        if isinstance(probe_every, bool) or not isinstance(probe_every, int) or probe_every < 1:
            raise ValueError(f"--probe-every: expected at least 1 tick, got {probe_every!r}")
        from_ms = None if from_time is None else duration_ms(from_time, "from_time")
        until_ms = None if until_time is None else duration_ms(until_time, "until_time")
        result = _thalia.replay(self.path, region or "", from_epoch, until_epoch,
                                os.fspath(checkpoint_dir) if checkpoint_dir else "", self.strict,
                                perturb_weight_for_test or "", probes, probe_every, from_ms, until_ms)
        return ReplayResult(result)

    def __repr__(self):
        state = "complete" if self.complete else f"cut ({self.end_reason})"
        return f"<thalia.Trace {self.path!r}: {self.name}, {len(self.epochs)} epochs, {state}>"


class Checkpoint:
    """A checkpoint file, after the checks a resume makes (``thalia checkpoint info``):
    ``name``, ``seed``, ``dt_ms``, ``epoch_ticks``, ``tick``, ``epoch``, ``time_ms``,
    ``format_version``, ``executor`` and ``workers`` of the run that wrote it, ``modulators``
    (levels), ``pending_events``, ``trace`` and ``trace_epochs`` (where its recording stood),
    ``regions`` and per region ``state_bytes``, ``in_flight``, ``inputs`` and ``digests`` (dicts),
    ``digest`` (combined) and ``config`` (dict). FormatError for a damaged, truncated or
    other-version file. ``thalia.resume(path)`` continues it."""

    def __init__(self, path):
        self.path = _existing(path, "checkpoint")
        d = _thalia.read_checkpoint(self.path)
        names = list(d["region_names"])
        self.regions = names
        for key in ("name", "seed", "dt_ms", "epoch_ticks", "tick", "epoch", "format_version", "executor",
                    "workers", "modulators", "pending_events", "trace_epochs", "digest"):
            setattr(self, key, d[key])
        self.trace = d["trace"] or None
        for key in ("state_bytes", "in_flight", "inputs", "digests"):
            setattr(self, key, dict(zip(names, d[key])))
        self._config_json = d["config_json"]

    @property
    def time_ms(self):
        """The checkpoint's simulated time in ms."""
        return self.tick * self.dt_ms

    @property
    def config(self):
        """The configuration of the run, as a dict."""
        return json.loads(self._config_json)

    def verify(self):
        """Loads the state into a brain in this process and checks every region's digest
        (``thalia checkpoint info --verify``); FormatError if it does not reproduce them."""
        _thalia.verify_checkpoint(self.path)

    def __repr__(self):
        return f"<thalia.Checkpoint {self.path!r}: {self.name}, epoch {self.epoch}, tick {self.tick}>"
