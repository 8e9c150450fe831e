#!/usr/bin/env bash
# Threads inside a region, side by side in one run: for each network, the wall time of
# `thalia run --threads 1` and `--threads T`, and beside it the machine's ceiling for that split:
# two one-thread runs of the same network at once (two independent halves of the work, no
# exchange), which says how much two threads can gain on this machine at all.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/threads_bench.sh [--build DIR] [--rounds N] [--threads T] [NETWORK:DURATION ...]

Prints, per network, the best (minimum) wall time over N rounds of --threads 1 and --threads T,
their ratio (the speedup), and the ceiling 2 x t(1 thread) / t(two 1-thread runs at once).
The digests of the runs are checked to be equal (the split changes nothing). Networks default to
brunel.json:500ms coba.json:2s brain.json:500ms large.json:300ms (paths under examples/).

  --build DIR   the build folder (default: build)
  --rounds N    rounds per measurement (default: 3)
  --threads T   the thread count to compare with one thread (default: 2)
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
rounds=3
threads=2
nets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    -*) echo "bench/threads_bench.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) nets+=("$1"); shift ;;
  esac
done
[ ${#nets[@]} -gt 0 ] || nets=(brunel.json:500ms coba.json:2s brain.json:500ms large.json:300ms)
thalia="$build/tools/thalia"
[ -x "$thalia" ] || { echo "bench/threads_bench.sh: no $thalia (build first)" >&2; exit 2; }

now() { date +%s.%N; }
# Wall seconds of one run; its digest goes to the file $2.
timed() {
  local t0 t1
  t0=$(now)
  "$thalia" run "$1" --until "$2" --threads "$3" --quiet > "$4"
  t1=$(now)
  calc "$t1 - $t0"
}
min() { printf '%s\n' "$@" | sort -g | head -1; }
calc() { awk "BEGIN { print $1 }"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), rounds $rounds"
printf '%-12s %8s %8s %8s %8s %8s  %s\n' network until t1_s tT_s speedup ceiling digest
for spec in "${nets[@]}"; do
  net="${spec%%:*}"
  until="${spec#*:}"
  cfg="$root/examples/$net"
  one=() many=() pair=()
  for _ in $(seq "$rounds"); do
    one+=("$(timed "$cfg" "$until" 1 "$tmp/one")")
    many+=("$(timed "$cfg" "$until" "$threads" "$tmp/many")")
    t0=$(now)
    "$thalia" run "$cfg" --until "$until" --threads 1 --quiet > "$tmp/pa" &
    "$thalia" run "$cfg" --until "$until" --threads 1 --quiet > "$tmp/pb" &
    wait
    pair+=("$(calc "$(now) - $t0")")
  done
  d1=$(grep '^digest' "$tmp/one")
  dt=$(grep '^digest' "$tmp/many")
  if [ "$d1" != "$dt" ]; then
    echo "bench/threads_bench.sh: $net: the digests differ ($d1 vs $dt): a determinism bug" >&2
    exit 1
  fi
  t1=$(min "${one[@]}")
  tt=$(min "${many[@]}")
  tp=$(min "${pair[@]}")
  printf '%-12s %8s %8.3f %8.3f %7.2fx %7.2fx  %s\n' "$net" "$until" "$t1" "$tt" \
    "$(calc "$t1 / $tt")" "$(calc "2 * $t1 / $tp")" "${d1#digest }"
done
