# Type stub of the thalia package: the public names and their signatures, for editors and type
# checkers. The docstrings are in the modules (help(thalia.Brain)).
import os
from types import TracebackType
from typing import Any, Iterator, KeysView, Mapping, NamedTuple, Sequence

import numpy as np
import numpy.typing as npt

__version__: str

Duration = str | float | int
"""A duration: a number of ms, or a string with a unit ("500ms", "2s", "100us", "1min")."""
Region = str | int
PathLike = str | os.PathLike[str]
Ints = int | Sequence[int] | npt.NDArray[np.integer[Any]]
Floats = float | Sequence[float] | npt.NDArray[np.floating[Any]]

class RunError(RuntimeError):
    message: str
    worker: int | None
    pid: int | None
    regions: list[str]
    epoch: int | None
    def __init__(self, message: str, worker: int | None = ..., pid: int | None = ...,
                 regions: Sequence[str] = ..., epoch: int | None = ...) -> None: ...

class FormatError(ValueError): ...

class Spikes:
    tick: npt.NDArray[np.uint64]
    neuron: npt.NDArray[np.uint32]
    region: npt.NDArray[np.uint32]
    dt_ms: float
    region_names: list[str]
    @property
    def time_ms(self) -> npt.NDArray[np.float64]: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[npt.NDArray[Any]]: ...

class Population:
    name: str
    offset: int
    size: int
    excitatory: bool
    @property
    def neurons(self) -> npt.NDArray[np.uint32]: ...
    def __contains__(self, neuron: int) -> bool: ...

class Recording:
    brain: Brain
    path: str
    closed: bool
    def close(self) -> str: ...
    def abandon(self) -> None: ...
    def __enter__(self) -> Recording: ...
    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool: ...

class Brain:
    def __init__(self, config: PathLike | str | Mapping[str, Any], *, workers: int | None = ...,
                 threads: int | None = ..., launch: str | None = ..., placement: Sequence[int] | None = ...,
                 seed: int | None = ..., hang_timeout: Duration | None = ..., keep_spikes: bool = ...,
                 worker_binary: PathLike | None = ...) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def seed(self) -> int: ...
    @property
    def dt_ms(self) -> float: ...
    @property
    def epoch_ticks(self) -> int: ...
    @property
    def duration_ms(self) -> float: ...
    @property
    def regions(self) -> list[str]: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def tick(self) -> int: ...
    @property
    def time_ms(self) -> float: ...
    @property
    def epoch(self) -> int: ...
    @property
    def executor(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def region_size(self, region: Region) -> int: ...
    def populations(self, region: Region) -> dict[str, Population]: ...
    def region_index(self, region: Region) -> int: ...
    def ticks(self, duration: Duration) -> int: ...
    def run(self, until: Duration | None = ..., *, duration: Duration | None = ...) -> None: ...
    def run_ticks(self, until_tick: int) -> None: ...
    def step(self, epochs: int = ...) -> None: ...
    def inject_spike(self, region: Region, neuron: Ints, amount: Floats = ..., *, tick: Ints | None = ...) -> None: ...
    def set_current(self, region: Region, neuron: Ints, amount: Floats, *, tick: Ints | None = ...) -> None: ...
    def add_modulator(self, modulator: str | int, amount: float) -> None: ...
    def reward(self, amount: float) -> None: ...
    def modulator_level(self, modulator: str | int) -> float: ...
    def spikes(self, region: Region) -> Spikes: ...
    def counters(self) -> dict[str, dict[str, int]]: ...
    def rates(self) -> dict[str, float]: ...
    def digest(self) -> int: ...
    def region_digests(self) -> dict[str, int]: ...
    def stats(self) -> list[dict[str, Any]]: ...
    def record(self, path: PathLike) -> Recording: ...
    def save_checkpoint(self, path: PathLike) -> None: ...
    def close(self) -> None: ...
    def __enter__(self) -> Brain: ...
    def __exit__(self, *exc: object) -> bool: ...

def resume(path: PathLike, *, workers: int | None = ..., threads: int | None = ..., launch: str | None = ...,
           placement: Sequence[int] | None = ..., hang_timeout: Duration | None = ..., keep_spikes: bool = ...,
           worker_binary: PathLike | None = ...) -> Brain: ...

class Epochs:
    epoch: npt.NDArray[np.uint64]
    t0: npt.NDArray[np.uint64]
    t1: npt.NDArray[np.uint64]
    modulators: npt.NDArray[np.float32]
    events: npt.NDArray[np.uint64]
    digests: npt.NDArray[np.uint64]
    spike_counts: npt.NDArray[np.uint64]
    def __len__(self) -> int: ...

class Divergence:
    epoch: int
    t0: int
    t1: int
    region: str
    tick: int
    expected: tuple[int, int] | None
    got: tuple[int, int] | None
    expected_digest: int
    got_digest: int

class Synapse(NamedTuple):
    pathway: str
    source_region: str
    source: int
    delay_ticks: int

class ProbeData:
    dt_ms: float
    ticks: npt.NDArray[np.uint64]
    series: dict[tuple[str, str, int], npt.NDArray[np.float64]]
    synapses: dict[tuple[str, str, int], Synapse]
    spikes: dict[tuple[str, int], npt.NDArray[np.uint64]]
    @property
    def time_ms(self) -> npt.NDArray[np.float64]: ...
    def weights_in(self, region: str, neuron: int) -> dict[str, npt.NDArray[np.float64]]: ...
    def __getitem__(self, key: tuple[str, str, int]) -> npt.NDArray[np.float64]: ...
    def __len__(self) -> int: ...
    def keys(self) -> KeysView[tuple[str, str, int]]: ...

class ReplayResult:
    identical: bool
    epochs: int
    spikes: int
    checkpoint_marks: int
    started_from: str
    first_epoch: int
    trace_complete: bool
    trace_end: str
    stopped_early: bool
    description: str
    divergence: Divergence | None
    probes: ProbeData | None
    def __bool__(self) -> bool: ...

class Trace:
    path: str
    strict: bool
    name: str
    seed: int
    dt_ms: float
    epoch_ticks: int
    format_version: int
    first_epoch: int
    first_tick: int
    checkpoint: str | None
    regions: list[str]
    region_sizes: dict[str, int]
    complete: bool
    end_reason: str
    dropped: list[tuple[int, int, str]]
    file_size: int
    epochs: Epochs
    spike_counts: dict[str, int]
    def __init__(self, path: PathLike, *, strict: bool = ...) -> None: ...
    @property
    def config(self) -> dict[str, Any]: ...
    @property
    def duration_ms(self) -> float: ...
    def rates(self) -> dict[str, float]: ...
    def spikes(self, region: Region | None = ..., start: Duration | None = ...,
               stop: Duration | None = ...) -> Spikes: ...
    def replay(self, region: str | None = ..., *, from_epoch: int | None = ..., until_epoch: int | None = ...,
               from_time: Duration | None = ..., until_time: Duration | None = ...,
               checkpoint_dir: PathLike | None = ..., probes: str | Sequence[str] | None = ...,
               probe_every: int = ..., perturb_weight_for_test: str | None = ...) -> ReplayResult: ...

class Checkpoint:
    path: str
    name: str
    seed: int
    dt_ms: float
    epoch_ticks: int
    tick: int
    epoch: int
    format_version: int
    executor: str
    workers: int
    modulators: list[float]
    pending_events: int
    trace: str | None
    trace_epochs: int
    regions: list[str]
    state_bytes: dict[str, int]
    in_flight: dict[str, int]
    inputs: dict[str, int]
    digests: dict[str, int]
    digest: int
    def __init__(self, path: PathLike) -> None: ...
    @property
    def time_ms(self) -> float: ...
    @property
    def config(self) -> dict[str, Any]: ...
    def verify(self) -> None: ...
