#!/usr/bin/env bash
# Threads inside a region, side by side in one run: for each network, the run loop's wall time
# (what `thalia run` reports as "simulated ... in X s wall": building the brain excluded) with
# `--threads 1` and `--threads T`, and beside it the machine's ceiling for that split: two
# one-thread runs of the same network at once (two independent halves of the work, no exchange),
# which says how much two threads can gain on this machine at all. Whole-process times (the
# brain's build and split included) are printed too.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/threads_bench.sh [--build DIR] [--rounds N] [--threads T] [--workers [--share] [--exchange X]]
                              [NETWORK:DURATION ...]

Prints, per network, the best (minimum) run-loop wall time over N rounds of --threads 1 and
--threads T, their ratio (the speedup), and the ceiling 2 x t(1 thread) / t(the slower of two
1-thread runs at once); then the same for whole-process wall times (build and split included).
The digests of the runs are checked to be equal (the split changes nothing). Networks default to
brunel.json:1s coba.json:5s brain.json:1s large.json:500ms (paths under examples/).

  --build DIR   the build folder (default: build)
  --rounds N    rounds per measurement (default: 3)
  --threads T   the thread count to compare with one thread (default: 2)
  --workers     compare T worker processes (--workers T: a region is split into parts, one per
                worker, where it may be) with the in-process run, instead of T threads
  --share       with --workers: worker 0's part runs in the coordinator's process
                (--coordinator-share), so T processes in all instead of T + 1
  --exchange X  with --workers: how the workers exchange spikes (thalia run --exchange: star, the
                default, or direct)
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
rounds=3
threads=2
how=threads
share=()
nets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --workers) how=workers; shift ;;
    --share) share=(--coordinator-share); shift ;;
    --exchange) share+=(--exchange "$2"); shift 2 ;;
    -*) echo "bench/threads_bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) nets+=("$1"); shift ;;
  esac
done
[ ${#nets[@]} -gt 0 ] || nets=(brunel.json:1s coba.json:5s brain.json:1s large.json:500ms)
thalia="$build/tools/thalia"
[ -x "$thalia" ] || { echo "bench/threads_bench.sh: no $thalia (build first)" >&2; exit 2; }

now() { date +%s.%N; }
# The run loop's wall seconds in a run's report.
loop_s() { awk '/^simulated / { for (i = 1; i <= NF; ++i) if ($i == "in") { print $(i + 1); exit } }' "$1"; }
# Runs once: prints "loop_s process_s"; the report goes to the file $4.
timed() {
  local t0 t1
  t0=$(now)
  local par=(--threads "$3")
  if [ "$how" = workers ]; then
    if [ "$3" = 1 ]; then par=(--workers 0); else par=(--workers "$3" "${share[@]}"); fi
  fi
  "$thalia" run "$1" --until "$2" "${par[@]}" --quiet > "$4"
  t1=$(now)
  echo "$(loop_s "$4") $(calc "$t1 - $t0")"
}
max() { printf '%s\n' "$@" | sort -g | tail -1; }
min() { printf '%s\n' "$@" | sort -g | head -1; }
calc() { awk "BEGIN { print $1 }"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), rounds $rounds, $how ${share[*]:-}"
printf '%-12s %7s | %8s %8s %8s %8s | %8s %8s %8s %8s  %s\n' network until loop_t1 loop_tT speedup ceiling \
  proc_t1 proc_tT speedup ceiling digest
for spec in "${nets[@]}"; do
  net="${spec%%:*}"
  until="${spec#*:}"
  cfg="$root/examples/$net"
  l1=() lt=() lp=() p1=() pt=() pp=()
  for _ in $(seq "$rounds"); do
    read -r a b <<< "$(timed "$cfg" "$until" 1 "$tmp/one")"; l1+=("$a"); p1+=("$b")
    read -r a b <<< "$(timed "$cfg" "$until" "$threads" "$tmp/many")"; lt+=("$a"); pt+=("$b")
    t0=$(now)
    "$thalia" run "$cfg" --until "$until" --threads 1 --quiet > "$tmp/pa" &
    "$thalia" run "$cfg" --until "$until" --threads 1 --quiet > "$tmp/pb" &
    wait
    pp+=("$(calc "$(now) - $t0")")
    lp+=("$(max "$(loop_s "$tmp/pa")" "$(loop_s "$tmp/pb")")")
  done
  d1=$(grep '^digest' "$tmp/one")
  dt=$(grep '^digest' "$tmp/many")
  if [ "$d1" != "$dt" ]; then
    echo "bench/threads_bench.sh: $net: the digests differ ($d1 vs $dt): a determinism bug" >&2
    exit 1
  fi
  a1=$(min "${l1[@]}"); at=$(min "${lt[@]}"); ap=$(min "${lp[@]}")
  b1=$(min "${p1[@]}"); bt=$(min "${pt[@]}"); bp=$(min "${pp[@]}")
  printf '%-12s %7s | %8.3f %8.3f %7.2fx %7.2fx | %8.3f %8.3f %7.2fx %7.2fx  %s\n' "$net" "$until" \
    "$a1" "$at" "$(calc "$a1 / $at")" "$(calc "2 * $a1 / $ap")" \
    "$b1" "$bt" "$(calc "$b1 / $bt")" "$(calc "2 * $b1 / $bp")" "${d1#digest }"
done
