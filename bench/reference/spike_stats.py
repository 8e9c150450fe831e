#!/usr/bin/env python3
"""Firing statistics computed one way for every simulator of bench/compare_brian2.sh, from spike
trains given as neuron indices and step numbers: rate, mean ISI CV and population Fano factor.

Definitions (those of tests/kernel/brunel_test.cc, so the figures compare with the tests'):
  rate   spikes per neuron per second over [warmup, until)
  CV     the mean over neurons with >= 4 spikes in the window of std(ISI)/mean(ISI), sample
         standard deviation (n - 1)
  Fano   variance / mean of the population's spike counts in 1 ms bins
Also usable alone on `thalia trace spikes` output (CSV tick,time_ms,region,neuron), e.g.
    thalia trace spikes run.trace > run.csv && spike_stats.py run.csv --neurons 4000
Needs only numpy.
"""
import argparse

import numpy as np


def statistics(i, tick, n, dt_ms, warmup_ms, until_ms):
    """(rate Hz, mean ISI CV, neurons in the CV, Fano factor of 1 ms population counts) of the
    spikes (neuron i[k] at step tick[k]) of n neurons in [warmup_ms, until_ms)."""
    i, tick = np.asarray(i, dtype=np.int64), np.asarray(tick, dtype=np.int64)
    w0, w1 = int(round(warmup_ms / dt_ms)), int(round(until_ms / dt_ms))
    keep = (tick >= w0) & (tick < w1)
    i, tick = i[keep], tick[keep]
    rate = i.size / n / ((w1 - w0) * dt_ms / 1000.0)
    order = np.lexsort((tick, i))
    i, tick = i[order], tick[order]
    starts = np.searchsorted(i, np.arange(n + 1))
    cvs = []
    for a, b in zip(starts[:-1], starts[1:]):
        if b - a < 4:
            continue
        isi = np.diff(tick[a:b]).astype(float)
        cvs.append(isi.std(ddof=1) / isi.mean())
    bin_ticks = int(round(1.0 / dt_ms))
    bins = (w1 - w0) // bin_ticks
    counts = np.bincount((tick - w0) // bin_ticks, minlength=bins)[:bins].astype(float)
    fano = counts.var() / counts.mean() if counts.mean() > 0 else float("nan")
    return rate, float(np.mean(cvs)) if cvs else float("nan"), len(cvs), float(fano)


def line(label, stats, warmup_ms, until_ms):
    """The one result line every script prints (bench/compare_brian2.sh reads it)."""
    rate, cv, cv_n, fano = stats
    return (f"{label} stats rate {rate:.3f} cv {cv:.4f} cv_neurons {cv_n} fano {fano:.3f} "
            f"window {warmup_ms:g}-{until_ms:g} ms")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", help="spikes as CSV tick,time_ms,region,neuron with a header line")
    ap.add_argument("--neurons", type=int, required=True, help="neurons in the network")
    ap.add_argument("--dt-ms", type=float, default=0.1)
    ap.add_argument("--warmup-ms", type=float, default=100.0)
    ap.add_argument("--until-ms", type=float, required=True)
    ap.add_argument("--label", default="spikes")
    args = ap.parse_args()
    data = np.loadtxt(args.csv, delimiter=",", skiprows=1, usecols=(0, 3), dtype=np.int64, ndmin=2)
    stats = statistics(data[:, 1], data[:, 0], args.neurons, args.dt_ms, args.warmup_ms,
                       args.until_ms)
    print(line(args.label, stats, args.warmup_ms, args.until_ms))


if __name__ == "__main__":
    main()
