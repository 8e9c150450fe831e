#!/usr/bin/env bash
# The default build carries debug information (-O3 -g): shows side by side that it runs as fast as
# the same sources built without it (-O3), and that the machine code is the same instruction for
# instruction. Runs kernel_bench from both builds in turn, N rounds.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/debuginfo.sh [--with DIR] [--without DIR] [--reps N]

  --with DIR     the default build, with debug information (default: build)
  --without DIR  the same sources configured with -Ddebug=false (default: build-nodebug;
                 make it with: meson setup build-nodebug -Ddebug=false -Dtests=disabled &&
                 ninja -C build-nodebug bench/kernel_bench tools/thalia)
  --reps N       rounds; each runs both builds on each network in turn (default: 5)
EOF
}

root="$(cd "$(dirname "$0")/.." && pwd)"
with="$root/build"
without="$root/build-nodebug"
reps=5
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --with) with="$2"; shift 2 ;;
    --without) without="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    *) echo "bench/debuginfo.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
for b in "$with" "$without"; do
  [ -x "$b/bench/kernel_bench" ] || { echo "bench/debuginfo.sh: $b/bench/kernel_bench missing (see --help)" >&2; exit 2; }
done

echo "debug sections in kernel_bench: with $(readelf -S "$with/bench/kernel_bench" | grep -c '\.debug_'), without $(readelf -S "$without/bench/kernel_bench" | grep -c '\.debug_')"
# The machine code: the whole .text of both kernel_bench binaries, instruction by instruction at
# the same addresses; the lines that differ are printed.
text() { objdump -d --no-show-raw-insn -j .text "$1" | tail -n +4; }
diffs="$(diff <(text "$with/bench/kernel_bench") <(text "$without/bench/kernel_bench") | grep '^[<>]' || true)"
echo "kernel_bench .text: $(text "$with/bench/kernel_bench" | grep -c $'\t') instructions;" \
     "$(printf '%s' "$diffs" | grep -c '^<' || true) differ between the builds"
[ -n "$diffs" ] && printf '%s\n' "$diffs" | head -20

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for ((i = 0; i < reps; i++)); do
  for net in "coba.json 10000" "brain.json 1000"; do
    set -- $net
    # Alternate which build goes first, so neither always starts on a warmer machine.
    if ((i % 2 == 0)); then order="with without"; else order="without with"; fi
    for b in $order; do
      dir=$with
      [ "$b" = without ] && dir=$without
      echo "$b $("$dir/bench/kernel_bench" "$root/examples/$1" "$2")" >>"$out"
    done
  done
done
python3 - "$out" "$reps" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    build, net = f[0], f[1]
    value = lambda key: float(f[f.index(key) + 1])
    rows.setdefault(net, {}).setdefault(build, []).append((value("wall"), value("cpu"), f[f.index("digest") + 1]))
print(f"medians of {sys.argv[2]} runs each, the two builds in turn (CPU = user + system):")
print("| network | wall -O3 -g (default) | wall -O3 | ratio | CPU -O3 -g | CPU -O3 | ratio | same digest |")
print("|---|---|---|---|---|---|---|---|")
for net, b in rows.items():
    med = lambda build, k: statistics.median(x[k] for x in b[build])
    same = {x[2] for x in b["with"]} == {x[2] for x in b["without"]}
    print(f"| {net} | {med('with', 0):.3f} s | {med('without', 0):.3f} s | {med('with', 0) / med('without', 0):.3f} | "
          f"{med('with', 1):.3f} s | {med('without', 1):.3f} s | {med('with', 1) / med('without', 1):.3f} | "
          f"{'yes' if same else 'NO'} |")
PY
