#!/usr/bin/env bash
# Thalia and Brian2 side by side on the same networks (issue #7), alternating in one invocation:
# wall and CPU time of the simulation, the ratio Thalia/Brian2, and each one's firing rate.
# Results and their reading: bench/RESULTS.md, "Side by side with Brian2".
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/compare_brian2.sh [--build DIR] [--rounds N] [--targets "cython standalone"] [--help]

Runs, alternating, DIR/bench/kernel_bench (default DIR: build) and the Brian2 models of
bench/reference, once per Brian2 target (cython and numpy: Brian2's runtime mode; standalone: its
C++ standalone mode, one thread), on the same networks:
  COBA    examples/coba.json for 10 s     vs bench/reference/coba_brian2.py
  Brunel  examples/brunel.json for 1 s    vs bench/reference/brunel_brian2.py --kernel-steps
ROUNDS times each (default 3; a round takes about a minute on a 2-core machine, plus one
compilation of each standalone project), in an order rotating by round, then prints medians and
the time ratio Thalia/Brian2 (below 1: Thalia is faster).

Times: Thalia's are kernel_bench's (RunUntil, network construction excluded). Brian2's "loop" is
Brian2's own measure of its run loop; its CPU time is the process's around run() (standalone: the
compiled program's, which also loads the network); network construction and code generation and
compilation are printed separately and are not in the ratios. Rates are over the whole simulated
time.

Environment:
  PYTHON   an interpreter that can import brian2 (default: python3). On Debian/Ubuntu install
           python3-brian and cython3 and point PYTHON at the system python3 if python3 on PATH is
           another one.
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
rounds=3
targets="cython standalone"
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h) usage; exit 0 ;;
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    *) echo "compare_brian2.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
python="${PYTHON:-python3}"
bench="$build/bench/kernel_bench"
[ -x "$bench" ] || { echo "compare_brian2.sh: build first (ninja -C $build bench/kernel_bench)" >&2; exit 2; }
if ! "$python" -c 'import brian2' 2>/dev/null; then
  echo "compare_brian2.sh: '$python' cannot import brian2. Install it (Debian/Ubuntu: apt-get install" \
       "python3-brian cython3) and set PYTHON to an interpreter that has it (on Debian: the system python3)" >&2
  exit 2
fi
brian_version="$("$python" -c 'import brian2; print(brian2.__version__)' 2>/dev/null)"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "brian2 $brian_version (targets: $targets), $("$python" --version 2>&1)"
echo "load at start: $(uptime | sed 's/.*load average/load average/')"

work="$(mktemp -d)"  # the result lines and the standalone projects of this invocation
trap 'rm -rf "$work"' EXIT
log="$work/log"
run() {  # SIMULATOR NETWORK
  local sim="$1" net="$2" args=()
  if [ "$sim" = thalia ]; then
    if [ "$net" = coba ]; then ms=10000; else ms=1000; fi
    "$bench" "$root/examples/$net.json" "$ms" | sed "s/^/thalia-$net /" | tee -a "$log"
    return
  fi
  if [ "$net" = coba ]; then args=(--until-ms 10000)
  else args=(--until-ms 1000 --warmup-ms 0 --kernel-steps); fi
  [ "$sim" = standalone ] && args+=(--workdir "$work/$net")
  # Brian2 prints numpy/pythran deprecation warnings on stderr; keep the result lines only.
  "$python" "$root/bench/reference/${net}_brian2.py" --target "$sim" "${args[@]}" 2>/dev/null |
    grep '^brian2-.* sim ' | sed "s/^brian2-/$sim-/" | tee -a "$log"
}
read -r -a sims <<< "thalia $targets"
for r in $(seq 1 "$rounds"); do
  echo "--- round $r"
  for net in coba brunel; do
    for k in $(seq 0 $((${#sims[@]} - 1))); do run "${sims[$(((k + r - 1) % ${#sims[@]}))]}" "$net"; done
  done
done
echo "load at end: $(uptime | sed 's/.*load average/load average/')"

# The values after KEY on the lines starting with PREFIX, sorted; their median; their maximum.
values() { awk -v p="$1" -v k="$2" 'index($0, p) == 1 { for (i = 1; i < NF; ++i) if ($i == k) print $(i + 1) }' "$log" | sort -g; }
median() { values "$1" "$2" | awk '{ v[NR] = $1 } END { if (!NR) print "nan"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maximum() { values "$1" "$2" | tail -n 1; }
echo
echo "medians of $rounds rounds; Brian2 time = its run loop; ratio = Thalia time / this simulator's time"
printf '%-7s %-17s %9s %9s %8s %8s %10s %11s %11s %8s\n' network simulator "wall s" "cpu s" "rate Hz" \
  "build s" "cgen max s" "ratio wall" "ratio cpu" "rate"
for net in coba brunel; do
  tw=$(median "thalia-$net " wall); tc=$(median "thalia-$net " cpu); tr=$(median "thalia-$net " rate)
  printf '%-7s %-17s %9.3f %9.3f %8.2f %8s %10s %11s %11s %8s\n' "$net" thalia "$tw" "$tc" "$tr" - - - - -
  for t in $targets; do
    bw=$(median "$t-$net " loop); bc=$(median "$t-$net " cpu); br=$(median "$t-$net " rate)
    bb=$(median "$t-$net " build); bg=$(maximum "$t-$net " codegen)
    awk -v n="$net" -v t="brian2-$t" -v tw="$tw" -v tc="$tc" -v tr="$tr" -v bw="$bw" -v bc="$bc" -v br="$br" \
      -v bb="$bb" -v bg="$bg" 'BEGIN { printf "%-7s %-17s %9.3f %9.3f %8.2f %8.2f %10.2f %11.3f %11.3f %+7.1f%%\n",
        n, t, bw, bc, br, bb, bg, tw / bw, tc / bc, 100 * (tr - br) / br }'
  done
done
echo "(rate: Thalia's rate relative to Brian2's; cgen max: Brian2's code generation and compilation,"
echo " the longest of the rounds: the first, unless Brian2's caches held the code already)"
