"""Thalia from Python: build, run, record, replay and resume spiking brains, with numpy.

Runs are deterministic: the same configuration and seed give the same spikes and digests in
this process, with forked or spawned worker processes, replayed, and resumed from a checkpoint.

- Brain(config, workers=, threads=, launch=, placement=, seed=): build and drive a brain.
- resume(checkpoint, **options): a Brain continuing a checkpoint.
- Trace(path): a recorded run: header, epochs, spikes as numpy arrays, replay() (with probes:
  any state variable of any neuron recomputed tick by tick, as a ProbeData).
- Checkpoint(path): what a checkpoint holds.
- RunError (a run failed), FormatError (an unusable trace or checkpoint); configuration errors
  are ValueError.

Example::

    import thalia
    brain = thalia.Brain("examples/tiny.json", workers=2)
    with brain.record("run.trace"):
        brain.run(until="500ms")
    print(f"digest {brain.digest():016x}")
    print(thalia.Trace("run.trace").replay())
"""

from ._brain import Brain, Population, Recording, resume
from ._errors import FormatError, RunError
from ._files import Checkpoint, Divergence, Epochs, ProbeData, ReplayResult, Spikes, Synapse, Trace

__all__ = ["Brain", "Checkpoint", "Divergence", "Epochs", "FormatError", "Population", "ProbeData",
           "Recording", "ReplayResult", "RunError", "Spikes", "Synapse", "Trace", "resume"]
__version__ = "0.1.0"
