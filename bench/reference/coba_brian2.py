#!/usr/bin/env python3
"""The Vogels-Abbott COBA network of examples/coba.json in Brian2, for bench/compare_brian2.sh:
the same model, stepped as the kernel steps it, timed without code generation.

Written from the config and the kernel's update (kernel/population_region.cc, StepConductance and
Threshold), not from any other implementation. Needs Brian2 (Debian: apt-get install python3-brian
cython3). Model, per neuron (conductances in units of the leak conductance, as in the config):
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

try:
    import brian2 as b2
    import brian_run  # bench/reference/brian_run.py
except ImportError:
    sys.exit("coba_brian2.py: this interpreter cannot import brian2; install Debian's "
             "python3-brian (and cython3 for the cython target) and run it with that python3, "
             "e.g. PYTHON=/path/to/python3 bench/compare_brian2.sh")

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
    mon = b2.SpikeMonitor(P, record=False)                 # counts only
    return b2.Network(P, S_E, S_I, mon), mon, ns, (S_E, S_I)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target", choices=brian_run.TARGETS, default="cython",
                    help="Brian2 code generation target (default cython)")
    ap.add_argument("--workdir", help="standalone target: project folder to keep (default: a new "
                    "temporary folder, so everything is compiled again)")
    ap.add_argument("--until-ms", type=float, default=10000.0)
    ap.add_argument("--refractory-ms", type=float, default=5.1,
                    help="5.1 holds V for 50 steps after the spike step, as the kernel's 5 ms")
    args = ap.parse_args()
    brian_run.setup(args.target, args.workdir)
    b2.defaultclock.dt = DT * b2.ms
    t0 = time.perf_counter()
    net, mon, ns, syn = build(args)
    t_build = time.perf_counter() - t0
    t = brian_run.timed_run(net, ns, args.until_ms * b2.ms, args.target)
    synapses = len(syn[0]) + len(syn[1])  # known after the run in standalone mode
    rate = mon.num_spikes / (N_E + N_I) / (args.until_ms / 1000.0)
    print(f"brian2-coba synapses {synapses} sim {args.until_ms / 1000:.2f} s  build {t_build:.2f} s  "
          f"codegen {t['codegen']:.2f} s  wall {t['wall']:.3f} s  loop {t['loop']:.3f} s  "
          f"cpu {t['cpu']:.3f} s  rate {rate:.2f} Hz  spikes {mon.num_spikes}  target {args.target}")


if __name__ == "__main__":
    main()
