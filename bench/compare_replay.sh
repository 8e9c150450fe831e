#!/usr/bin/env bash
# `thalia replay` of one trace by two builds, side by side: e.g. this build against one of the
# commit before a change, to show that an unprobed replay is as fast as it was. Records CONFIG
# once with the second build, then replays it with each build in turn (the order alternating),
# N rounds, and prints the median wall time of each and their ratio.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/compare_replay.sh --before THALIA --after THALIA [--config FILE] [--until 300ms] [--reps N]

  --before THALIA  the thalia binary to compare against (e.g. built from the previous commit)
  --after THALIA   the thalia binary under test (default: build/tools/thalia)
  --config FILE    the configuration to record (default: examples/brain.json)
  --until T        how long a run to record (default: 300ms)
  --reps N         rounds (default: 5)
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
before=""
after="$root/build/tools/thalia"
config="$root/examples/brain.json"
until=300ms
reps=5
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --before) before="$2"; shift 2 ;;
    --after) after="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --until) until="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) echo "bench/compare_replay.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for b in "$before" "$after"; do
  [ -n "$b" ] && [ -x "$b" ] || { echo "bench/compare_replay.sh: '$b' is not an executable (see --help)" >&2; exit 2; }
done

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
"$after" run "$config" --until "$until" --record "$dir/run.trace" --quiet >"$dir/run.log" 2>&1 || { cat "$dir/run.log"; exit 1; }
seconds() {  # wall seconds of one replay; fails unless the replay says identical
  local t0 t1
  t0=$(date +%s.%N)
  "$1" replay "$dir/run.trace" | grep -q '^identical'
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
for ((i = 0; i < reps; i++)); do
  if ((i % 2 == 0)); then order="before after"; else order="after before"; fi
  for which in $order; do
    bin=$before
    [ "$which" = after ] && bin=$after
    echo "$which $(seconds "$bin")" >>"$dir/times"
  done
done
python3 - "$dir/times" "$reps" "$(basename "$config")" "$until" <<'PY'
import statistics, sys
t = {}
for line in open(sys.argv[1]):
    which, s = line.split()
    t.setdefault(which, []).append(float(s))
b, a = statistics.median(t["before"]), statistics.median(t["after"])
print(f"thalia replay of {sys.argv[3]} ({sys.argv[4]}), median of {sys.argv[2]} runs each, in turn:")
print(f"| before | after | after / before |")
print(f"|---|---|---|")
print(f"| {b:.3f} s | {a:.3f} s | {a / b:.3f} |")
PY
