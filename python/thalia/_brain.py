"""thalia.Brain: build a brain, drive it epoch by epoch, record it, checkpoint it."""

import json
import os

import numpy as np

from . import _thalia
from ._files import Spikes
from ._util import duration_ms, ms_to_ticks
from ._workers import missing_message, worker_binary

__all__ = ["Brain", "Population", "Recording", "resume"]

MODULATORS = ("dopamine", "acetylcholine", "noradrenaline")
MAX_TICK = 2**62  # kernel::kMaxTick: no run goes further


class Population:
    """One population of a region: its name, first neuron, size and sign.

    ``neurons`` is the array of its region-local neuron ids.
    """

    def __init__(self, name, offset, size, excitatory):
        self.name = name
        self.offset = offset
        self.size = size
        self.excitatory = excitatory

    @property
    def neurons(self):
        """The population's neuron ids in its region (numpy uint32)."""
        return np.arange(self.offset, self.offset + self.size, dtype=np.uint32)

    def __contains__(self, neuron):
        return self.offset <= neuron < self.offset + self.size

    def __repr__(self):
        kind = "excitatory" if self.excitatory else "inhibitory"
        return f"Population({self.name!r}, neurons {self.offset}..{self.offset + self.size - 1}, {kind})"


def _options(workers, threads, launch, placement, hang_timeout, keep_spikes, binary):
    if launch not in (None, "fork", "spawn"):
        raise ValueError(f"launch: expected 'fork' or 'spawn', got {launch!r}")
    if workers is not None and (not isinstance(workers, int) or workers < -1):
        raise ValueError(f"workers: expected a number of worker processes (0: this process), got {workers!r}")
    if threads is not None and (not isinstance(threads, int) or threads < -1):
        raise ValueError(f"threads: expected a number of threads (-1: automatic), got {threads!r}")
    found = worker_binary(binary)
    if launch == "spawn" and not found:
        raise FileNotFoundError(missing_message())
    placement = [int(w) for w in placement] if placement is not None else []
    if any(w < 0 for w in placement):
        raise ValueError(f"placement: expected worker numbers (0, 1, ...), got {placement}")
    if workers is None and placement:  # a placement alone implies its workers, as in thalia run
        workers = max(placement) + 1
    return dict(workers=-1 if workers is None else workers, threads=0 if threads is None else threads,
                launch=launch or "", placement=placement,
                hang_timeout_ms=-1.0 if hang_timeout is None else duration_ms(hang_timeout, "hang_timeout"),
                keep_spikes=bool(keep_spikes), worker_binary=found)


def _source(config):
    """(text, is_path, name) of a configuration given as a path, a JSON string or a dict."""
    if isinstance(config, dict):
        return json.dumps(config), False, "<dict>"
    if isinstance(config, str) and config.lstrip().startswith("{"):
        return config, False, "<json string>"
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        return path, True, path
    raise TypeError(f"config: expected a file path, a JSON string or a dict, got {type(config).__name__}")


class Brain:
    """A spiking brain built from a configuration, run from Python.

    ``config`` is a configuration file (JSON, checked against schemas/config.fbs), a JSON
    string, or a dict of the same content. Keyword arguments choose how it runs; none of them
    changes a result (the determinism contract):

    - ``workers``: worker processes (0: every region in this process); default: the config's.
    - ``threads``: threads per process, each region split into shards on them (0 or None: the
      config's, default 1; -1: automatic).
    - ``launch``: ``"fork"`` (workers inherit this brain) or ``"spawn"`` (workers run the
      ``thalia`` executable; see ``worker_binary`` and THALIA_WORKER_BINARY).
    - ``placement``: the worker of each region, in configuration order.
    - ``seed``: overrides the configuration's seed (as ``thalia run --seed``).
    - ``hang_timeout``: a worker silent this long fails the run ("30s"; default the config's).
    - ``keep_spikes``: keep every spike for ``spikes()`` (default True).

    Times are ticks (``dt_ms`` each, integers) or durations: a number of ms or a string with a
    unit ("500ms", "2s"). Regions are named or numbered.

    Each epoch runs with the GIL released. Ctrl-C raises KeyboardInterrupt between epochs; a
    brain with worker processes first keeps its state in memory and ends and reaps its workers,
    and its next call continues on new workers exactly as if it had not been interrupted. A
    failed run raises RunError and the brain stops (resume a checkpoint to go on). Use ``with
    Brain(...) as b:`` or ``close()`` to end the workers at a known point.

    Example::

        brain = thalia.Brain("examples/tiny.json", workers=2)
        brain.run(until="500ms")
        ticks, neurons = brain.spikes("cortex")
        print(brain.rates(), hex(brain.digest()))
    """

    def __init__(self, config, *, workers=None, threads=None, launch=None, placement=None, seed=None,
                 hang_timeout=None, keep_spikes=True, worker_binary=None):
        text, is_path, name = _source(config)
        if seed is not None and (not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
        opts = _options(workers, threads, launch, placement, hang_timeout, keep_spikes, worker_binary)
        self._attach(_thalia.create_brain(text, is_path, name, seed, **opts))

    @classmethod
    def _from_core(cls, core):
        brain = cls.__new__(cls)
        brain._attach(core)
        return brain

    def _attach(self, core):
        self._core = core
        spec = core.spec()
        self._spec = spec
        self._names = [r[0] for r in spec["regions"]]
        self._index = {n: i for i, n in enumerate(self._names)}
        self._start_tick = core.tick

    # -- what the brain is ------------------------------------------------------------------
    @property
    def name(self):
        """The configuration's name."""
        return self._spec["name"]

    @property
    def seed(self):
        """The seed the brain runs with."""
        return self._spec["seed"]

    @property
    def dt_ms(self):
        """Milliseconds per tick."""
        return self._spec["dt_ms"]

    @property
    def epoch_ticks(self):
        """Ticks per epoch (the longest stretch run between spike exchanges)."""
        return self._spec["epoch_ticks"]

    @property
    def duration_ms(self):
        """The configuration's duration (what ``run()`` runs to without ``until``)."""
        return self._spec["duration_ms"]

    @property
    def regions(self):
        """Region names, in configuration order (a region's number is its index here)."""
        return list(self._names)

    @property
    def config(self):
        """The resolved configuration, as a dict."""
        return json.loads(self._spec["config_json"])

    def region_size(self, region):
        """Number of neurons of a region."""
        return self._spec["regions"][self.region_index(region)][2]

    def populations(self, region):
        """The populations of a region, by name (dict of Population)."""
        pops = self._spec["regions"][self.region_index(region)][3]
        return {p[0]: Population(*p) for p in pops}

    def region_index(self, region):
        """The number of a region given by name or number; ValueError for an unknown one."""
        if isinstance(region, str):
            if region not in self._index:
                raise ValueError(f"no region {region!r}; the regions are {', '.join(self._names)}")
            return self._index[region]
        index = int(region)
        if not 0 <= index < len(self._names):
            raise ValueError(f"no region {region!r}: there are {len(self._names)} regions")
        return index

    @property
    def tick(self):
        """Simulated time now, in ticks."""
        return self._core.tick

    @property
    def time_ms(self):
        """Simulated time now, in ms."""
        return self._core.tick * self.dt_ms

    @property
    def epoch(self):
        """Epochs run so far (the number of the next epoch)."""
        return self._core.epoch

    @property
    def executor(self):
        """How the regions run: "inproc", or e.g. "socket/fork, 2 workers"."""
        return self._core.executor

    @property
    def closed(self):
        """Whether the brain was closed or has stopped (after a failed run)."""
        return self._core.closed

    def ticks(self, duration):
        """A duration ("100ms", or a number of ms) in whole ticks of this brain."""
        return ms_to_ticks(duration_ms(duration, "duration"), self.dt_ms)

    # -- running ----------------------------------------------------------------------------
    def run(self, until=None, *, duration=None):
        """Runs to simulated time ``until`` (as ``thalia run --until``), or for ``duration`` from
        now; with neither, to the configuration's duration. The last epoch is shortened to end
        exactly there. ``until`` earlier than now is a ValueError."""
        if until is not None and duration is not None:
            raise ValueError("run: give until or duration, not both")
        if duration is not None:
            target = self.tick + self.ticks(duration)
        else:
            ms = self.duration_ms if until is None else duration_ms(until, "until")
            target = ms_to_ticks(ms, self.dt_ms)
            if target < self.tick:
                raise ValueError(f"until: {until!r} is before the brain's time ({self.time_ms:g} ms); "
                                 "until is the time to run to (duration= runs for a while)")
        self.run_ticks(target)

    def run_ticks(self, until_tick):
        """Runs to tick ``until_tick`` (an absolute tick)."""
        until_tick = int(until_tick)
        if until_tick >= MAX_TICK:
            raise ValueError(f"until: tick {until_tick} is beyond the longest run (2^62 ticks)")
        self._core.run_until(max(until_tick, 0))

    def step(self, epochs=1):
        """Runs ``epochs`` whole epochs."""
        if epochs < 0:
            raise ValueError(f"step: expected a non-negative number of epochs, got {epochs}")
        self._core.step(int(epochs))

    # -- input ------------------------------------------------------------------------------
    def _inputs(self, region, neuron, amount, tick, what):
        r = self.region_index(region)
        tick = self.tick if tick is None else tick
        n, t, a = np.broadcast_arrays(np.asarray(neuron), np.asarray(tick), np.asarray(amount))
        if n.size and (not np.issubdtype(n.dtype, np.integer) or n.min() < 0):
            raise ValueError(f"{what}: neurons must be non-negative integers")
        if t.size and (not np.issubdtype(t.dtype, np.integer) or t.min() < 0 or t.max() >= MAX_TICK):
            raise ValueError(f"{what}: ticks must be integers from 0 to 2^62 (see Brain.ticks for durations)")
        return (r, n.ravel().astype(np.uint32).tolist(), t.ravel().astype(np.uint64).tolist(),
                a.ravel().astype(np.float32).tolist())

    def inject_spike(self, region, neuron, amount=0.5, *, tick=None):
        """Input spikes into ``neuron`` of ``region`` at ``tick`` (default: now; >= now).
        ``amount`` > 0 excites, < 0 inhibits. ``neuron``, ``amount`` and ``tick`` may be arrays;
        they broadcast together, and inputs are applied in their C order."""
        self._core.inject_spikes(*self._inputs(region, neuron, amount, tick, "inject_spike"))

    def set_current(self, region, neuron, amount, *, tick=None):
        """A constant input current (mV) on ``neuron`` from ``tick`` on (default: now). Arrays
        broadcast as in inject_spike."""
        self._core.set_currents(*self._inputs(region, neuron, amount, tick, "set_current"))

    def add_modulator(self, modulator, amount):
        """Adds ``amount`` to a neuromodulator now: "dopamine", "acetylcholine",
        "noradrenaline" (or 0, 1, 2)."""
        self._core.add_modulator(self._modulator(modulator), float(amount))

    def reward(self, amount):
        """Dopamine: ``add_modulator("dopamine", amount)``."""
        self._core.add_modulator(0, float(amount))

    def modulator_level(self, modulator):
        """A neuromodulator's level now."""
        return self._core.modulator_level(self._modulator(modulator))

    @staticmethod
    def _modulator(modulator):
        if isinstance(modulator, str):
            if modulator not in MODULATORS:
                raise ValueError(f"no modulator {modulator!r}; expected one of {', '.join(MODULATORS)}")
            return MODULATORS.index(modulator)
        return int(modulator)

    # -- output -----------------------------------------------------------------------------
    def spikes(self, region):
        """The spikes of ``region`` since the last call, as Spikes (numpy arrays ``tick`` and
        ``neuron``; ``time_ms``); unpacks as ``ticks, neurons = brain.spikes("cortex")``."""
        if not self._core.keep_spikes:
            raise ValueError("spikes: this brain was built with keep_spikes=False")
        r = self.region_index(region)
        ticks, neurons = self._core.take_spikes(r)
        return Spikes(ticks, neurons, np.full(len(ticks), r, dtype=np.uint32), self.dt_ms, self._names)

    def counters(self):
        """Per region: spikes, synaptic events and neuron updates since the brain was built or
        resumed (dict of dicts)."""
        out = {}
        for i, n in enumerate(self._names):
            s, e, u = self._core.counters(i)
            out[n] = {"spikes": s, "synaptic_events": e, "neuron_updates": u}
        return out

    def rates(self):
        """Per region: mean firing rate (Hz) since the brain was built or resumed."""
        seconds = (self.tick - self._start_tick) * self.dt_ms / 1000.0
        out = {}
        for i, n in enumerate(self._names):
            spikes = self._core.counters(i)[0]
            out[n] = spikes / (self.region_size(i) * seconds) if seconds > 0 else 0.0
        return out

    def digest(self):
        """The combined digest of every region's state: what ``thalia run`` prints as
        ``digest <hex>`` (``f"{brain.digest():016x}"``), the same in every execution mode."""
        return self._core.digest()

    def region_digests(self):
        """Each region's full state digest (dict name -> int)."""
        return dict(zip(self._names, self._core.region_digests()))

    def stats(self):
        """Per worker: its regions, epochs, busy and waiting seconds and pid (empty in process)."""
        out = self._core.stats()
        for w in out:
            w["regions"] = [self._names[r] for r in w["regions"]]
        return out

    # -- recording and checkpoints ----------------------------------------------------------
    def record(self, path):
        """Records every epoch from now on to the trace ``path`` (see thalia.Trace and ``thalia
        replay``). Returns a Recording; use it as a context manager, or call its close(). The
        trace is written as PATH.incomplete and renamed to PATH when closed; an exception inside
        the ``with`` block leaves PATH.incomplete (a readable prefix), as a crash would. Start it
        before the first epoch (or right after resume) so the trace can be replayed."""
        self._core.start_recording(os.fspath(path))
        return Recording(self, os.fspath(path))

    def save_checkpoint(self, path):
        """Writes the complete state now (between epochs) to ``path``, atomically; a trace being
        recorded notes it. ``thalia.resume(path)`` or ``thalia run --resume`` continue it."""
        self._core.save_checkpoint(os.fspath(path))

    def close(self):
        """Ends the workers (an unfinished recording is left as PATH.incomplete). Idempotent."""
        self._core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self.closed else f"tick {self.tick}, {self.executor}"
        return f"<thalia.Brain {self.name!r}: {len(self._names)} regions, {state}>"


class Recording:
    """A trace being recorded (from Brain.record). A context manager: leaving the block closes
    the trace, or abandons it as PATH.incomplete if the block raised."""

    def __init__(self, brain, path):
        self.brain = brain
        self.path = path
        self.closed = False

    def close(self):
        """Finishes the trace: writes its index and renames PATH.incomplete to PATH."""
        if not self.closed:
            self.closed = True
            self.brain._core.stop_recording(True)
        return self.path

    def abandon(self):
        """Stops recording and leaves PATH.incomplete (a readable prefix)."""
        if not self.closed:
            self.closed = True
            self.brain._core.stop_recording(False)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None and not self.brain._core.closed:
            self.close()
        else:
            self.abandon()
        return False

    def __repr__(self):
        return f"<thalia.Recording {self.path!r}{' (closed)' if self.closed else ''}>"


def resume(path, *, workers=None, threads=None, launch=None, placement=None, hang_timeout=None,
           keep_spikes=True, worker_binary=None):
    """A Brain continuing the checkpoint ``path`` (written by Brain.save_checkpoint or
    ``thalia run --checkpoint-every``), with any execution options (see Brain): it runs exactly
    as the run that was never interrupted. Raises FormatError for an unusable checkpoint."""
    opts = _options(workers, threads, launch, placement, hang_timeout, keep_spikes, worker_binary)
    return Brain._from_core(_thalia.resume_brain(os.fspath(path), **opts))
