#!/usr/bin/env python3
"""The Vogels-Abbott COBA network of examples/coba.json (Brette et al. 2007, benchmark 1) in
Brian2, for bench/compare_brian2.sh: the same model, stepped as the kernel steps it.

Follows Brian2's own example examples/CUBA.py (the same benchmark family, in the form Brian2's
documentation teaches: one NeuronGroup, `Synapses(...).connect(p=0.02)` generated source-major
in C++, a SpikeMonitor, default code generation) with benchmark 1's conductance equations; the
parameters are those of examples/coba.json. Written from the config and the kernel's update
(kernel/neuron_kernels.cc, StepConductance and Threshold); it shares no code with the kernel.
Needs Brian2 (Debian: apt-get install python3-brian cython3). Model, per neuron (conductances in
units of the leak conductance, as in the config):
    tau_m dV/dt = -(V - E_L) - g_e (V - E_e) - g_i (V - E_i)
    g_e, g_i decay with tau_e = 5 ms, tau_i = 10 ms; a spike adds 0.6 (E) or 6.7 (I)
    E_L -49 mV, threshold -50 mV (V >= theta), reset -60 mV, refractory 5 ms, V(0) ~ U[-60, -50)
    3200 E + 800 I, each ordered pair connected with p = 0.02 (no autapses), delay one step.
Stepping, as the kernel: V by forward Euler with the conductances of the step start; the
conductances decay exactly (g *= exp(-dt/tau)), written as an Euler step of
dg/dt = -g (1 - exp(-dt/tau))/dt, which is the same multiplication. A spike of step s changes the
conductance used in step s+1 (the kernel's 0.1 ms delay = one tick; Brian2 delivers an undelayed
on_pre after the thresholds, for the next step). The kernel holds V at reset for the 50 steps
after a spike step; Brian2's refractory=R holds it for round(R/dt) - 1, hence 5.1 ms by default.
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
    sys.exit("coba_brian2.py: this interpreter cannot import brian2; install Debian's "
             "python3-brian (and cython3 for the cython target) and run it with that python3")

# examples/coba.json
N_E, N_I = 3200, 800
P_CONNECT = 0.02
W_E, W_I = 0.6, 6.7            # conductance jumps, units of g_L
TAU_M, TAU_E, TAU_I = 20.0, 5.0, 10.0   # ms
E_L, E_E, E_I = -49.0, 0.0, -80.0       # mV
V_T, V_R = -50.0, -60.0                 # mV
DT = 0.1                                # ms


def build(args):
    b2.seed(args.seed)
    mV, ms = b2.mV, b2.ms
    ns = dict(tau_m=TAU_M * ms, E_L=E_L * mV, E_e=E_E * mV, E_i=E_I * mV, V_t=V_T * mV,
              V_r=V_R * mV, w_e=W_E, w_i=W_I,
              k_e=(1 - math.exp(-DT / TAU_E)) / (DT * ms), k_i=(1 - math.exp(-DT / TAU_I)) / (DT * ms))
    eqs = """
    dv/dt = (-(v - E_L) - ge*(v - E_e) - gi*(v - E_i))/tau_m : volt (unless refractory)
    dge/dt = -k_e*ge : 1
    dgi/dt = -k_i*gi : 1
    """
    P = b2.NeuronGroup(N_E + N_I, eqs, threshold="v >= V_t", reset="v = V_r",
                       refractory=args.refractory_ms * ms, method="euler", namespace=ns)
    P.v = "V_r + 10*mV*rand()"
    S_E = b2.Synapses(P[:N_E], P, on_pre="ge_post += w_e", namespace=ns)
    S_I = b2.Synapses(P[N_E:], P, on_pre="gi_post += w_i", namespace=ns)
    S_E.connect(condition="i != j", p=P_CONNECT)          # no E->E autapse
    S_I.connect(condition=f"j != i + {N_E}", p=P_CONNECT)  # no I->I autapse
    mon = b2.SpikeMonitor(P)
    return b2.Network(P, S_E, S_I, mon), mon, ns, (S_E, S_I)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", choices=brian_run.TARGETS, default="standalone",
                    help="Brian2 code generation target (default standalone)")
    ap.add_argument("--workdir", help="standalone target: project folder to keep (default: a new "
                    "temporary folder, so everything is compiled again)")
    ap.add_argument("--until-ms", type=float, default=10000.0)
    ap.add_argument("--warmup-ms", type=float, default=100.0, help="statistics from here on")
    ap.add_argument("--refractory-ms", type=float, default=5.1,
                    help="5.1 holds V for 50 steps after the spike step, as the kernel's 5 ms")
    args = ap.parse_args()
    brian_run.setup(args.target, args.workdir)
    b2.defaultclock.dt = DT * b2.ms
    t0 = time.perf_counter()
    net, mon, ns, syn = build(args)
    t_build = time.perf_counter() - t0
    t = brian_run.timed_run(net, ns, args.until_ms * b2.ms, args.target)
    tick = np.rint(np.asarray(mon.t[:] / b2.ms) / DT).astype(np.int64)
    stats = spike_stats.statistics(np.asarray(mon.i[:]), tick, N_E + N_I, DT, args.warmup_ms,
                                   args.until_ms)
    print(spike_stats.line("brian2-coba", stats, args.warmup_ms, args.until_ms))
    synapses = len(syn[0]) + len(syn[1])  # known after the run in standalone mode
    brian_run.report("coba", args.until_ms, t_build, t, int(mon.num_spikes), N_E + N_I,
                     args.target, f"  synapses {synapses}")


if __name__ == "__main__":
    main()
