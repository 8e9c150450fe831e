#!/usr/bin/env bash
# The default build carries debug information (-O3 -g): shows side by side that it runs as fast as
# the same sources built without it (-O3), and that the machine code of the kernel's hot paths is
# the same instruction for instruction. Runs kernel_bench from both builds in turn, N rounds.
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

echo "debug sections: with $(readelf -S "$with/bench/kernel_bench" | grep -c '\.debug_'), without $(readelf -S "$without/bench/kernel_bench" | grep -c '\.debug_')"
# The hot paths, disassembled without addresses (which move with the code around them).
for fn in 'thalia::kernel::PopulationRegion::Advance' 'thalia::kernel::PopulationRegion::UpdatePopulation'; do
  dis() { gdb -batch -ex "disassemble '$fn'" "$1" 2>/dev/null | sed -E 's/^ *0x[0-9a-f]+ <\+[0-9]+>:\t//; s/0x[0-9a-f]+ <[^>]*>/ADDR/g' | grep -v '^Dump\|^End'; }
  if [ "$(dis "$with/bench/kernel_bench" | md5sum)" = "$(dis "$without/bench/kernel_bench" | md5sum)" ]; then
    echo "$fn: the same $(dis "$with/bench/kernel_bench" | wc -l) instructions in both builds"
  else
    echo "$fn: the instructions differ between the builds"
  fi
done

out="$(mktemp)"
trap 'rm -f "$out"' EXIT
for ((i = 0; i < reps; i++)); do
  for net in "coba.json 10000" "brain.json 1000"; do
    set -- $net
    echo "with $("$with/bench/kernel_bench" "$root/examples/$1" "$2")" >>"$out"
    echo "without $("$without/bench/kernel_bench" "$root/examples/$1" "$2")" >>"$out"
  done
done
python3 - "$out" "$reps" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    build, net = f[0], f[1]
    wall = float(f[f.index("wall") + 1])
    digest = f[f.index("digest") + 1]
    rows.setdefault(net, {}).setdefault(build, []).append((wall, digest))
print(f"median wall time of {sys.argv[2]} runs each, the two builds in turn:")
print("| network | -O3 -g (default) | -O3 | ratio | same digest |")
print("|---|---|---|---|---|")
for net, b in rows.items():
    w = statistics.median(x[0] for x in b["with"])
    o = statistics.median(x[0] for x in b["without"])
    same = {x[1] for x in b["with"]} == {x[1] for x in b["without"]}
    print(f"| {net} | {w:.3f} s | {o:.3f} s | {w / o:.3f} | {'yes' if same else 'NO'} |")
PY
