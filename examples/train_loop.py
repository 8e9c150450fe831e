#!/usr/bin/env python3
"""A training loop driving the Python API, as examples/train_loop.cc does in C++: present a
stimulus to cortex, read striatal output, reward the brain when D1 wins, print a learning curve.
It runs with two forked workers by default and records its run, so that

    python3 examples/train_loop.py examples/tiny.json --record train.trace
    thalia replay train.trace

replays it identically in one process (so does thalia.Trace("train.trace").replay()). Its
digest is the C++ example's for the same configuration and trials, with any number of workers.

usage: train_loop.py CONFIG [--workers N] [--trials N] [--record TRACE]
"""

import argparse
import sys

import numpy as np

import thalia


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("config", help="brain configuration (JSON) with regions cortex and striatum")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (0: this process)")
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--record", metavar="TRACE", default="train_loop.trace",
                        help="trace to record the run to (default train_loop.trace)")
    args = parser.parse_args(argv)

    with thalia.Brain(args.config, workers=args.workers) as brain:
        if "cortex" not in brain.regions or "striatum" not in brain.regions:
            sys.exit(f"{args.config}: needs regions named cortex and striatum")
        striatum = brain.populations("striatum")
        d1, d2 = striatum["D1"], striatum["D2"]
        trial_ticks = brain.ticks("100ms")
        # The stimulus: the first 50 cortical neurons get an input spike every 2 ms of the trial
        # (rows: ticks, columns: neurons; applied in that order, as the C++ loop does).
        offsets = np.arange(0, trial_ticks, 20, dtype=np.uint64)[:, None]
        neurons = np.arange(50, dtype=np.uint32)[None, :]
        with brain.record(args.record):
            for trial in range(args.trials):
                brain.inject_spike("cortex", neurons, 0.5, tick=brain.tick + offsets)
                brain.run_ticks(brain.tick + trial_ticks)
                _, fired = brain.spikes("striatum")
                n1 = int(np.count_nonzero((fired >= d1.offset) & (fired < d1.offset + d1.size)))
                n2 = int(np.count_nonzero((fired >= d2.offset) & (fired < d2.offset + d2.size)))
                for region in brain.regions:
                    if region != "striatum":
                        brain.spikes(region)  # dropped: only striatum is read out
                rewarded = n1 > n2
                print(f"trial {trial:2d}  D1 {n1:6d}  D2 {n2:6d}  dopamine {brain.modulator_level('dopamine'):.3f}"
                      f"  {'reward' if rewarded else ''}")
                if rewarded:
                    brain.reward(0.5)
        print(f"digest {brain.digest():016x}")


if __name__ == "__main__":
    main()
