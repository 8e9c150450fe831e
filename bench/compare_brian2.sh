#!/usr/bin/env bash
# Thalia and Brian2 side by side on the same networks (issues #7, #16), interleaved in one
# invocation: loop time against loop time, build time against build time, and both simulators'
# rate, ISI CV and Fano factor computed one way from their spike trains.
# Results and their reading: bench/RESULTS.md, "Side by side with Brian2".
set -euo pipefail

usage() {
  cat <<'EOF_USAGE'
usage: bench/compare_brian2.sh [--build DIR] [--rounds N] [--targets "standalone cython"] [--help]

Runs, interleaved (the order of the two simulators alternates by round), DIR/bench/kernel_bench
(default DIR: build) and the Brian2 models of bench/reference on the same networks:
  COBA    examples/coba.json, 10 s     vs bench/reference/coba_brian2.py
  CUBA    examples/cuba.json, 10 s     vs bench/reference/cuba_brian2.py
  Brunel  examples/brunel.json, 1 s    vs bench/reference/brunel_brian2.py --kernel-steps
ROUNDS times each (default 3), once per Brian2 target (default: standalone, Brian2's C++
standalone mode, one thread, its default compiler flags; cython: its runtime mode). The first
round also compiles each standalone project (kept for the later rounds). Then prints medians and
the ratio Thalia/Brian2 (below 1: Thalia is faster; the goal of issue 16 is at most 1/3).

Loop: the simulation loop alone. Thalia: kernel_bench's RunUntil, CPU time (user + system) and
wall time. Brian2: its own measure of its run loop, which in standalone mode without OpenMP is
std::clock(), i.e. CPU time; its run loop includes its SpikeMonitor, as in its examples. The loop
ratio is CPU against CPU, per round, then the median (and range) over rounds.
Build: constructing the network, separately. Thalia: Brain::Create (wall). Brian2: the Python
objects plus the compiled program's time outside its loop (creating the synapses of
connect(p=...), loading arrays, writing results; wall); its code generation and compilation are
printed apart.
Statistics over [100 ms, end): rate, mean ISI CV (neurons with >= 4 spikes), Fano factor of the
population's 1 ms counts, by bench/reference/spike_stats.py for both: Thalia's spikes from
`thalia run --record` and `thalia trace spikes` (one extra, untimed run per network), Brian2's
from its SpikeMonitor.

Environment:
  PYTHON   an interpreter that can import brian2 and numpy. Default: the first python3 or
           python3.N on PATH that can (on Debian: apt-get install python3-brian cython3).
EOF_USAGE
}

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
rounds=3
targets="standalone"
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    *) echo "compare_brian2.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "compare_brian2.sh: --rounds takes a positive count" >&2; exit 2; }
bench="$build/bench/kernel_bench"
thalia="$build/tools/thalia"
for b in "$bench" "$thalia"; do
  [ -x "$b" ] || { echo "compare_brian2.sh: build first (ninja -C $build)" >&2; exit 2; }
done

# An interpreter with brian2: $PYTHON, else the first python3 or python3.N on PATH that has it
# (a pyenv or virtualenv python3 often comes first on PATH without the system's brian2).
has_brian() { "$1" -c 'import brian2, numpy' >/dev/null 2>&1; }
python="${PYTHON:-}"
if [ -z "$python" ]; then
  IFS=: read -r -a path_dirs <<< "$PATH"
  for d in "${path_dirs[@]}"; do
    for p in "$d"/python3 "$d"/python3.[0-9]*; do
      case "$p" in *-config|*m) continue ;; esac
      if [ -x "$p" ] && has_brian "$p"; then python="$p"; break 2; fi
    done
  done
fi
if [ -z "$python" ] || ! has_brian "$python"; then
  echo "compare_brian2.sh: no interpreter on PATH can import brian2 (PYTHON='${PYTHON:-}'). Install" \
       "it (Debian/Ubuntu: apt-get install python3-brian cython3) or set PYTHON to one that has it" >&2
  exit 2
fi
brian_version="$("$python" -c 'import brian2; print(brian2.__version__)' 2>/dev/null)"
ref="$root/bench/reference"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "thalia $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?'), brian2 $brian_version" \
     "(targets: $targets), $("$python" --version 2>&1)"
echo "load at start: $(uptime | sed 's/.*load average/load average/')"

work="$(mktemp -d)"  # the result lines, traces and standalone projects of this invocation
trap 'rm -rf "$work"' EXIT
log="$work/log"
nets="coba cuba brunel"
until_ms() { if [ "$1" = brunel ]; then echo 1000; else echo 10000; fi; }
neurons() { if [ "$1" = brunel ]; then echo 12500; else echo 4000; fi; }

# Thalia's statistics: one recorded run per network, not timed.
for net in $nets; do
  ms=$(until_ms "$net")
  "$thalia" run "$root/examples/$net.json" --until "${ms}ms" --quiet --record "$work/$net.trace" \
    >"$work/run.out" 2>&1 || { cat "$work/run.out" >&2; exit 1; }
  "$thalia" trace spikes "$work/$net.trace" > "$work/$net.csv" 2>/dev/null
  "$python" "$ref/spike_stats.py" "$work/$net.csv" --neurons "$(neurons "$net")" --until-ms "$ms" \
    --label "thalia-$net" | tee -a "$log"
  rm -f "$work/$net.trace" "$work/$net.csv"
done

run() {  # SIMULATOR NETWORK ROUND
  local sim="$1" net="$2" r="$3" ms args=()
  ms=$(until_ms "$net")
  if [ "$sim" = thalia ]; then
    "$bench" "$root/examples/$net.json" "$ms" | sed "s/^[^ ]*/thalia-$net round $r/" | tee -a "$log"
    return
  fi
  args=(--target "$sim" --until-ms "$ms" --warmup-ms 100)
  [ "$net" = brunel ] && args+=(--kernel-steps)
  [ "$sim" = standalone ] && args+=(--workdir "$work/$net")
  # Brian2 prints numpy/pythran deprecation warnings on stderr; keep the result lines only.
  (cd "$ref" && "$python" "${net}_brian2.py" "${args[@]}" 2>/dev/null) |
    grep "^brian2-$net " | sed "s/^brian2-$net/$sim-$net round $r/" | tee -a "$log"
}
read -r -a sims <<< "thalia $targets"
for r in $(seq 1 "$rounds"); do
  echo "--- round $r, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for net in $nets; do
    for k in $(seq 0 $((${#sims[@]} - 1))); do run "${sims[$(((k + r - 1) % ${#sims[@]}))]}" "$net" "$r"; done
  done
done
echo "load at end: $(uptime | sed 's/.*load average/load average/')"

# The value after KEY on the timing (or, with "stats", the statistics) lines of PREFIX.
values() {  # PREFIX KEY [stats]
  awk -v p="$1 " -v k="$2" -v s="${3:-}" 'index($0, p) == 1 && ((s != "") == ($0 ~ / stats /)) {
    for (i = 1; i < NF; ++i) if ($i == k) print $(i + 1) }' "$log"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# Per-round ratios Thalia CPU / Brian2 loop: "median min max".
ratios() {  # NETWORK TARGET
  local r t b
  for r in $(seq 1 "$rounds"); do
    t=$(values "thalia-$1 round $r" cpu); b=$(values "$2-$1 round $r" loop)
    [ -n "$t" ] && [ -n "$b" ] && awk -v t="$t" -v b="$b" 'BEGIN { print t / b }'
  done | sort -g | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
    printf "%.3f %.3f %.3f\n", m, v[1], v[NR] }'
}
stat() { values "$1" "$2" stats | head -n 1; }

echo
echo "medians of $rounds rounds; loop: CPU s of the simulation loop (Thalia: also its wall s);"
echo "build: network construction, wall s; statistics over [100 ms, end) from each one's spikes"
printf '%-7s %-18s %8s %8s %8s %8s %8s %7s %8s %22s %12s\n' network simulator "loop s" "wall s" \
  "build s" "cgen s" "rate Hz" "CV" "Fano" "loop ratio" "build ratio"
for net in $nets; do
  tl=$(values "thalia-$net" cpu | median); tw=$(values "thalia-$net" wall | median)
  tb=$(values "thalia-$net" build | median)
  printf '%-7s %-18s %8.3f %8.3f %8.3f %8s %8.2f %7.3f %8.2f %22s %12s\n' "$net" thalia "$tl" "$tw" \
    "$tb" - "$(stat "thalia-$net" rate)" "$(stat "thalia-$net" cv)" "$(stat "thalia-$net" fano)" - -
  for t in $targets; do
    bl=$(values "$t-$net" loop | median); bb=$(values "$t-$net" build | median)
    bg=$(values "$t-$net" codegen | sort -g | tail -n 1)
    read -r rm rlo rhi <<< "$(ratios "$net" "$t")"
    printf '%-7s %-18s %8.3f %8s %8.3f %8.2f %8.2f %7.3f %8.2f %22s %12.3f\n' "$net" "brian2 $t" "$bl" - \
      "$bb" "$bg" "$(stat "$t-$net" rate)" "$(stat "$t-$net" cv)" "$(stat "$t-$net" fano)" \
      "$rm ($rlo-$rhi)" "$(awk -v a="$tb" -v b="$bb" 'BEGIN { print a / b }')"
  done
done
echo "(loop ratio: Thalia's loop CPU / Brian2's, median and range of the per-round ratios; below"
echo " 0.333 meets issue 16's goal. build ratio: Thalia's build / Brian2's. cgen: Brian2's code"
echo " generation and compilation, the longest of the rounds: the first, unless cached)"
