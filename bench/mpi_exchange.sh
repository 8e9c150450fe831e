#!/usr/bin/env bash
# The MPI executor's two spike exchanges side by side in one run (issue 17): for each network and
# rank count, `thalia run --executor mpi` with `--exchange star` (every spike through rank 0,
# which routes it) and `--exchange direct` (worker ranks send each other what they need; rank 0
# routes nothing), rounds alternated. Prints the run loop's wall time of each (minimum over the
# rounds), their ratio, the time per epoch, and what the worker ranks sent rank 0 per epoch
# (bytes, and spikes over the whole run), from each run's --summary; and the same with --record
# (the spikes then go to rank 0 for the trace). Every run's digest is checked against the
# sequential run's. Needs an MPI build (meson setup build-mpi -Dmpi=enabled).
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/mpi_exchange.sh [--build DIR] [--rounds N] [--ranks "3 5 9"] [NETWORK:DURATION ...]

  --build DIR    an MPI build folder (default: build-mpi)
  --rounds N     rounds per measurement, star and direct alternated (default: 3)
  --ranks LIST   mpirun -np values (rank 0 plus the worker ranks; default: "3 5 9")
  --no-record    skip the runs with --record
Networks default to brunel.json:200ms brain.json:200ms (paths under examples/). On a machine
with fewer cores than ranks the ranks are oversubscribed: the figures then compare the two
exchanges with each other, not with a cluster.
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-mpi"
rounds=3
ranks="3 5 9"
record=1
nets=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --build) build="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --no-record) record=0; shift ;;
    -*) echo "bench/mpi_exchange.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) nets+=("$1"); shift ;;
  esac
done
[ ${#nets[@]} -gt 0 ] || nets=(brunel.json:200ms brain.json:200ms)
thalia="$build/tools/thalia"
[ -x "$thalia" ] || { echo "bench/mpi_exchange.sh: no $thalia (build with -Dmpi=enabled first)" >&2; exit 2; }

# Loopback only; root needs --allow-run-as-root; shared memory without CMA (as tests/mpi/run.sh).
export OMPI_MCA_btl_vader_single_copy_mechanism=none
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader --mca oob_tcp_if_include lo)
work=$(mktemp -d "${TMPDIR:-/tmp}/thalia-xbench.XXXXXX")
trap 'rm -rf "$work"' EXIT

loop_s() { awk '/^simulated / { for (i = 1; i <= NF; ++i) if ($i == "in") { print $(i + 1); exit } }' "$1"; }
digest_of() { awk '/^digest / { print $2 }' "$1" | tail -n 1; }
# From a --summary: epochs, and the worker ranks' bytes and spikes to rank 0 (summed).
summary_sums() {
  python3 - "$1" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
w = s["workers"]
print(s["epochs"], sum(x["bytes_to_coordinator"] for x in w), sum(x["spikes_to_coordinator"] for x in w))
EOF
}
min() { printf '%s\n' "$@" | sort -g | head -n 1; }

echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); minimum of $rounds rounds"
printf '%-12s %5s %6s | %8s %8s %7s | %9s %9s | %11s %11s %12s\n' network ranks record star_s direct_s speedup \
  us/ep_st us/ep_dir B/ep_star B/ep_direct spikes_direct
for net in "${nets[@]}"; do
  file="${net%%:*}"
  until="${net##*:}"
  config="$root/examples/$file"
  "$thalia" run "$config" --until "$until" --workers 0 --quiet >"$work/seq.out" 2>&1
  want=$(digest_of "$work/seq.out")
  for np in $ranks; do
    modes=(no)
    [ "$record" = 1 ] && modes+=(yes)
    for rec in "${modes[@]}"; do
      declare -A times=() bytes=() spikes=() epochs=()
      for ((round = 0; round < rounds; ++round)); do
        for exchange in star direct; do
          extra=()
          [ "$rec" = yes ] && extra=(--record "$work/run.trace")
          timeout 600 "${mpirun[@]}" -np "$np" "$thalia" run "$config" --until "$until" --executor mpi \
            --exchange "$exchange" --quiet --summary "$work/run.json" "${extra[@]}" >"$work/run.out" 2>&1 ||
            { echo "run failed: $(cat "$work/run.out")" >&2; exit 1; }
          got=$(digest_of "$work/run.out")
          [ "$got" = "$want" ] || { echo "digest $got differs from the sequential $want ($exchange, -np $np)" >&2; exit 1; }
          times[$exchange]+="$(loop_s "$work/run.out") "
          read -r e b s < <(summary_sums "$work/run.json")
          epochs[$exchange]=$e
          bytes[$exchange]=$b
          spikes[$exchange]=$s
          rm -f "$work/run.trace"
        done
      done
      # shellcheck disable=SC2086
      star=$(min ${times[star]})
      # shellcheck disable=SC2086
      direct=$(min ${times[direct]})
      awk -v n="$file" -v np="$np" -v rec="$rec" -v s="$star" -v d="$direct" -v es="${epochs[star]}" \
        -v ed="${epochs[direct]}" -v bs="${bytes[star]}" -v bd="${bytes[direct]}" -v sd="${spikes[direct]}" \
        'BEGIN { printf "%-12s %5d %6s | %8.3f %8.3f %6.2fx | %9.0f %9.0f | %11.0f %11.0f %12d\n",
                 n, np, rec, s, d, s / d, 1e6 * s / es, 1e6 * d / ed, bs / es, bd / ed, sd }'
      unset times bytes spikes epochs
    done
  done
done
