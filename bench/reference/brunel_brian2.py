#!/usr/bin/env python3
"""Brunel (2000) model A, fig. 8C parameters, in Brian2: an independent reference for
examples/brunel.json (rate, mean ISI CV, Fano factor of 1 ms population counts) and its speed.

Written from the paper's model definition (Brunel 2000, J Comput Neurosci 8:183-208, section 2)
and the parameters of examples/brunel.json; it shares no code with the kernel. Needs Brian2
(Debian: apt-get install python3-brian cython3). Run with --help for the options.

Semantics (--semantics):
  thalia      as the kernel and NEST's iaf_psc_delta: during the refractory period V stays at V_r
              and every input (recurrent and external) is discarded; threshold V >= theta.
  brian       Brian2's defaults, as in the Brunel example shipped with Brian2: threshold V > theta,
              V flagged '(unless refractory)'. In Brian2 that flag makes every write to V
              conditional on not_refractory - on_pre and PoissonInput included - so inputs are
              discarded during the refractory period as in 'thalia'; only the threshold differs.
  accumulate  inputs that arrive during the refractory period add to V (V is held, not decayed,
              and not clamped), threshold V > theta: the other common reading of "refractory".
Time grid: Brian2 applies an on_pre (and a PoissonInput) at the end of a step, after the
thresholds, so V after Brian2's step k equals the kernel's V after its tick k+1, and Brian2's
threshold in step k+1 sees that V once more decayed (by exp(-dt/tau)). Spikes stay on the same
steps, inputs discarded during the refractory period are the same (refractory=2 ms holds V for the
19 steps after the spike step and discards arrivals of the spike step and those 19: the kernel's
20 clamped ticks), but a delay D reaches the threshold one step later than the kernel's D.
--kernel-steps removes both differences (delay D - dt, threshold theta exp(dt/tau)); by the order
of operations (not tested bit for bit: the random numbers differ), Brian2 then computes the
kernel's trajectories, in double precision.
"""
import argparse
import math
import sys
import time

import numpy as np

try:
    import brian2 as b2
    import brian_run  # bench/reference/brian_run.py
except ImportError:
    sys.exit("brunel_brian2.py: this interpreter cannot import brian2; install Debian's "
             "python3-brian (and cython3 for the cython target) and run it with that python3, "
             "e.g. PYTHON=/path/to/python3 bench/compare_brian2.sh")

# examples/brunel.json
N_E, N_I = 10000, 2500
C_E, C_I = 1000, 250          # fixed in-degrees
J, G = 0.1, 5.0               # mV; inhibitory weight -G*J
TAU, THETA, V_R = 20.0, 20.0, 10.0   # ms, mV, mV
NU_EXT, C_EXT = 20.0, 1000    # Hz per input, inputs per neuron (C_E * nu_ext = 20 kHz in all)
DT = 0.1                      # ms


def fixed_indegree(rng, n_src, n_tgt, indegree, same_pop_offset):
    """Sources for every target: indegree draws with replacement (multapses allowed, as the
    kernel and NEST's fixed_indegree), no autapse when the target lies in the source population
    (same_pop_offset = the target index of source 0, or None)."""
    j = np.repeat(np.arange(n_tgt, dtype=np.int32), indegree)
    if same_pop_offset is None:
        i = rng.integers(0, n_src, size=j.size, dtype=np.int32)
    else:
        own = j - same_pop_offset           # the target's own index in the source population
        i = rng.integers(0, n_src - 1, size=j.size, dtype=np.int32)
        i += (i >= own).astype(np.int32)    # skip it: uniform over the other n_src - 1
    return i, j


def build(args):
    b2.seed(args.seed)
    rng = np.random.default_rng(args.seed)
    mV, ms, Hz = b2.mV, b2.ms, b2.Hz
    delay, theta = args.delay_ms, THETA
    if args.kernel_steps:
        delay, theta = args.delay_ms - DT, THETA * math.exp(DT / TAU)
    ns = dict(tau=TAU * ms, theta=theta * mV, V_r=V_R * mV, J=J * mV, G=G)
    if args.semantics == "accumulate":  # no conditional write: only the decay stops
        eqs = "dv/dt = -int(not_refractory)*v/tau : volt"
    else:
        eqs = "dv/dt = -v/tau : volt (unless refractory)"
    P = b2.NeuronGroup(N_E + N_I, eqs,
                       threshold="v >= theta" if args.semantics == "thalia" else "v > theta",
                       reset="v = V_r", refractory=args.refractory_ms * ms, method="exact",
                       namespace=ns)
    P.v = f"{THETA}*mV * rand()"  # U[0, theta): v_init 0 + v_init_jitter 20 in the config
    P_E, P_I = P[:N_E], P[N_E:]
    S_E = b2.Synapses(P_E, P, on_pre="v_post += J", delay=delay * ms, namespace=ns)
    S_I = b2.Synapses(P_I, P, on_pre="v_post += -G*J", delay=delay * ms, namespace=ns)
    ie_e, je_e = fixed_indegree(rng, N_E, N_E, C_E, 0)          # E -> E
    ie_i, je_i = fixed_indegree(rng, N_E, N_I, C_E, None)       # E -> I
    S_E.connect(i=np.concatenate([ie_e, ie_i]), j=np.concatenate([je_e, je_i + N_E]))
    ii_e, ji_e = fixed_indegree(rng, N_I, N_E, C_I, None)       # I -> E
    ii_i, ji_i = fixed_indegree(rng, N_I, N_I, C_I, 0)          # I -> I
    S_I.connect(i=np.concatenate([ii_e, ii_i]), j=np.concatenate([ji_e, ji_i + N_E]))
    drive = b2.PoissonInput(P, "v", N=C_EXT, rate=NU_EXT * Hz, weight="J")
    mon = b2.SpikeMonitor(P)
    return b2.Network(P, S_E, S_I, drive, mon), mon, ns


def statistics(i, tick, warmup_ms, until_ms):
    """Rate, mean ISI CV over neurons with >= 4 spikes (sample std, n-1, as
    tests/kernel/brunel_test.cc) and Fano factor of 1 ms population counts, over [warmup, until),
    from spikes given as neuron indices i and step numbers tick."""
    n = N_E + N_I
    w0, w1 = int(round(warmup_ms / DT)), int(round(until_ms / DT))
    keep = (tick >= w0) & (tick < w1)
    i, tick = i[keep], tick[keep]
    rate = i.size / n / ((w1 - w0) * DT / 1000.0)
    order = np.lexsort((tick, i))
    i, tick = i[order], tick[order]
    starts = np.searchsorted(i, np.arange(n + 1))
    cvs = []
    for a, b in zip(starts[:-1], starts[1:]):
        if b - a < 4:
            continue
        isi = np.diff(tick[a:b]).astype(float)
        cvs.append(isi.std(ddof=1) / isi.mean())
    bin_ticks = int(round(1.0 / DT))
    counts = np.bincount((tick - w0) // bin_ticks, minlength=(w1 - w0) // bin_ticks)
    counts = counts[: (w1 - w0) // bin_ticks].astype(float)
    fano = counts.var() / counts.mean()
    return rate, float(np.mean(cvs)) if cvs else float("nan"), len(cvs), fano


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--semantics", choices=["thalia", "brian", "accumulate"], default="thalia")
    ap.add_argument("--target", choices=brian_run.TARGETS, default="cython",
                    help="Brian2 code generation target (default cython)")
    ap.add_argument("--workdir", help="standalone target: project folder to keep (default: a new "
                    "temporary folder, so everything is compiled again)")
    ap.add_argument("--warmup-ms", type=float, default=100.0)
    ap.add_argument("--until-ms", type=float, default=600.0)
    ap.add_argument("--delay-ms", type=float, default=1.5)
    ap.add_argument("--refractory-ms", type=float, default=2.0)
    ap.add_argument("--kernel-steps", action="store_true",
                    help="step as the kernel does (see 'Time grid' above)")
    ap.add_argument("--spikes-csv", metavar="FILE",
                    help="only analyse the spikes in FILE (thalia trace spikes output: "
                    "tick,time_ms,region,neuron) with the same statistics, and exit")
    args = ap.parse_args()
    if args.spikes_csv:
        tick, i = np.loadtxt(args.spikes_csv, delimiter=",", skiprows=1, usecols=(0, 3),
                             dtype=np.int64, unpack=True)
        rate, cv, cv_n, fano = statistics(i, tick, args.warmup_ms, args.until_ms)
        print(f"{args.spikes_csv}: rate {rate:.2f} Hz, mean ISI CV {cv:.3f} ({cv_n} neurons), "
              f"population Fano (1 ms) {fano:.1f}  [window {args.warmup_ms:g}-{args.until_ms:g} ms]")
        return
    brian_run.setup(args.target, args.workdir)
    b2.defaultclock.dt = DT * b2.ms
    t0 = time.perf_counter()
    net, mon, ns = build(args)
    t_build = time.perf_counter() - t0
    t = brian_run.timed_run(net, ns, args.until_ms * b2.ms, args.target)
    rate_all = mon.num_spikes / (N_E + N_I) / (args.until_ms / 1000.0)
    tick = np.rint(np.asarray(mon.t[:] / b2.ms) / DT).astype(np.int64)
    rate, cv, cv_n, fano = statistics(np.asarray(mon.i[:], dtype=np.int64), tick, args.warmup_ms,
                                      args.until_ms)
    steps = " kernel-steps" if args.kernel_steps else ""
    print(f"brian2-brunel semantics {args.semantics} seed {args.seed} target {args.target} "
          f"delay {args.delay_ms} ms refractory {args.refractory_ms} ms{steps}: "
          f"rate {rate:.2f} Hz, mean ISI CV {cv:.3f} ({cv_n} neurons), population Fano (1 ms) "
          f"{fano:.1f}  [window {args.warmup_ms:g}-{args.until_ms:g} ms]")
    print(f"brian2-brunel sim {args.until_ms / 1000:.2f} s  build {t_build:.2f} s  "
          f"codegen {t['codegen']:.2f} s  wall {t['wall']:.3f} s  loop {t['loop']:.3f} s  "
          f"cpu {t['cpu']:.3f} s  rate {rate_all:.2f} Hz  spikes {mon.num_spikes}")


if __name__ == "__main__":
    main()
