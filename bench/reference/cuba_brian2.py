#!/usr/bin/env python3
"""The CUBA network of examples/cuba.json (Brette et al. 2007, benchmark 2: current-based
exponential synapses, exact integration) in Brian2, for bench/compare_brian2.sh.

Follows Brian2's own example examples/CUBA.py, the benchmark as Brian2's documentation writes it
(one NeuronGroup with method 'exact', `Synapses(...).connect(p=0.02)` generated source-major in
C++, a SpikeMonitor, default code generation), with the parameters of examples/cuba.json; it
shares no code with the kernel. Needs Brian2 (Debian: apt-get install python3-brian cython3).
Model, per neuron (currents in mV, i.e. multiplied by the membrane resistance):
    tau_m dV/dt = -(V - E_L) + I_e + I_i,  I_e, I_i decay with tau_e = 5 ms, tau_i = 10 ms
    a spike adds 1.62 mV (E) or -9 mV (I) to I_e or I_i
    E_L -49 mV, threshold -50 mV, reset -60 mV, refractory 5 ms, V(0) ~ U[-60, -50)
    3200 E + 800 I, each ordered pair connected with p = 0.02, delay one step.
Differences from the example, each to step as the kernel steps (kernel/neuron_kernels.cc,
StepCurrent and Threshold): threshold V >= theta (the example: V > theta; no spike changes in
practice), no autapses (the kernel's default), refractory=5.1 ms (Brian2 holds V for
round(R/dt) - 1 steps after the spike step, the kernel for 50 steps at 5 ms). A spike of step s
changes the current used in step s+1 in both (the kernel's 0.1 ms delay = one tick; Brian2
delivers an undelayed on_pre after the thresholds). Both integrate V, I_e and I_i exactly over a
step; Brian2 in double precision, the kernel in float32.
"""
import argparse
import sys
import time

import numpy as np

try:
    import brian2 as b2
    import brian_run  # bench/reference/brian_run.py
    import spike_stats  # bench/reference/spike_stats.py
except ImportError:
    sys.exit("cuba_brian2.py: this interpreter cannot import brian2; install Debian's "
             "python3-brian (and cython3 for the cython target) and run it with that python3")

# examples/cuba.json
N_E, N_I = 3200, 800
P_CONNECT = 0.02
W_E, W_I = 1.62, -9.0                   # mV
TAU_M, TAU_E, TAU_I = 20.0, 5.0, 10.0   # ms
E_L, V_T, V_R = -49.0, -50.0, -60.0     # mV
DT = 0.1                                # ms


def build(args):
    b2.seed(args.seed)
    mV, ms = b2.mV, b2.ms
    ns = dict(taum=TAU_M * ms, taue=TAU_E * ms, taui=TAU_I * ms, El=E_L * mV, Vt=V_T * mV,
              Vr=V_R * mV, we=W_E * mV, wi=W_I * mV)
    eqs = """
    dv/dt  = (ge + gi - (v - El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt
    dgi/dt = -gi/taui : volt
    """
    P = b2.NeuronGroup(N_E + N_I, eqs, threshold="v >= Vt", reset="v = Vr",
                       refractory=args.refractory_ms * ms, method="exact", namespace=ns)
    P.v = "Vr + 10*mV*rand()"
    Ce = b2.Synapses(P[:N_E], P, on_pre="ge_post += we", namespace=ns)
    Ci = b2.Synapses(P[N_E:], P, on_pre="gi_post += wi", namespace=ns)
    Ce.connect(condition="i != j", p=P_CONNECT)          # no E->E autapse
    Ci.connect(condition=f"j != i + {N_E}", p=P_CONNECT)  # no I->I autapse
    mon = b2.SpikeMonitor(P)
    return b2.Network(P, Ce, Ci, mon), mon, ns, (Ce, Ci)


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
    print(spike_stats.line("brian2-cuba", stats, args.warmup_ms, args.until_ms))
    synapses = len(syn[0]) + len(syn[1])
    brian_run.report("cuba", args.until_ms, t_build, t, int(mon.num_spikes), N_E + N_I,
                     args.target, f"  synapses {synapses}")


if __name__ == "__main__":
    main()
