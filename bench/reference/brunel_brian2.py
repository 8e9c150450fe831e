#!/usr/bin/env python3
"""Brunel (2000) model A, fig. 8C parameters, in Brian2: an independent reference for
examples/brunel.json (rate, mean ISI CV, Fano factor of 1 ms population counts) and its speed.

Follows Brian2's own example examples/frompapers/Brunel_2000.py (panel C: g = 5,
nu_ext = 2 nu_thr): one NeuronGroup with method 'exact', two Synapses with `on_pre="v += J"`
(-g J) and delay D, the external drive as `PoissonInput(N=C_ext, rate=nu_ext, weight=J)`, default
code generation. One difference, to keep the connectivity of examples/brunel.json: fixed
in-degrees (C_E and C_I sources per target, drawn with replacement, no autapses, as the kernel and
NEST's fixed_indegree) instead of the example's `connect(p=epsilon)`; the index arrays are handed
to `connect(i=..., j=...)` ordered by source, the order in which `connect(p=...)` creates a
network's synapses, so that a spiking neuron's synapses lie together as in the example.
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
    import spike_stats  # bench/reference/spike_stats.py
except ImportError:
    sys.exit("brunel_brian2.py: this interpreter cannot import brian2; install Debian's "
             "python3-brian (and cython3 for the cython target) and run it with that python3")

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


def by_source(i, j):
    """connect()'s arguments with the synapses ordered by source (then target, as drawn)."""
    order = np.argsort(i, kind="stable")
    return dict(i=i[order], j=j[order])


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
    S_E.connect(**by_source(np.concatenate([ie_e, ie_i]), np.concatenate([je_e, je_i + N_E])))
    ii_e, ji_e = fixed_indegree(rng, N_I, N_E, C_I, None)       # I -> E
    ii_i, ji_i = fixed_indegree(rng, N_I, N_I, C_I, 0)          # I -> I
    S_I.connect(**by_source(np.concatenate([ii_e, ii_i]), np.concatenate([ji_e, ji_i + N_E])))
    drive = b2.PoissonInput(P, "v", N=C_EXT, rate=NU_EXT * Hz, weight="J")
    mon = b2.SpikeMonitor(P)
    return b2.Network(P, S_E, S_I, drive, mon), mon, ns


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--semantics", choices=["thalia", "brian", "accumulate"], default="thalia")
    ap.add_argument("--target", choices=brian_run.TARGETS, default="standalone",
                    help="Brian2 code generation target (default standalone)")
    ap.add_argument("--workdir", help="standalone target: project folder to keep (default: a new "
                    "temporary folder, so everything is compiled again)")
    ap.add_argument("--warmup-ms", type=float, default=100.0, help="statistics from here on")
    ap.add_argument("--until-ms", type=float, default=600.0)
    ap.add_argument("--delay-ms", type=float, default=1.5)
    ap.add_argument("--refractory-ms", type=float, default=2.0)
    ap.add_argument("--kernel-steps", action="store_true",
                    help="step as the kernel does (see 'Time grid' above)")
    args = ap.parse_args()
    brian_run.setup(args.target, args.workdir)
    b2.defaultclock.dt = DT * b2.ms
    t0 = time.perf_counter()
    net, mon, ns = build(args)
    t_build = time.perf_counter() - t0
    t = brian_run.timed_run(net, ns, args.until_ms * b2.ms, args.target)
    tick = np.rint(np.asarray(mon.t[:] / b2.ms) / DT).astype(np.int64)
    stats = spike_stats.statistics(np.asarray(mon.i[:]), tick, N_E + N_I, DT, args.warmup_ms,
                                   args.until_ms)
    print(spike_stats.line("brian2-brunel", stats, args.warmup_ms, args.until_ms))
    steps = " kernel-steps" if args.kernel_steps else ""
    brian_run.report("brunel", args.until_ms, t_build, t, int(mon.num_spikes), N_E + N_I,
                     args.target, f"  semantics {args.semantics} seed {args.seed}{steps}")

if __name__ == "__main__":
    main()
