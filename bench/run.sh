#!/usr/bin/env bash
# Runs the single-process kernel benchmarks and prints one line per network (see bench/RESULTS.md).
# Usage: bench/run.sh [BUILD_DIR]   (default: build). Each run is bounded to well under a minute.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build}"
bench="$build/bench/kernel_bench"
[ -x "$bench" ] || { echo "bench/run.sh: build first (ninja -C $build)"; exit 2; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
"$bench" "$root/examples/coba.json" 10000      # Vogels-Abbott COBA, 10 s
"$bench" "$root/examples/brunel.json" 1000     # Brunel 2000 AI, 1 s
"$bench" "$root/examples/brain.json" 1000      # five regions x 10k, 1 s
"$bench" "$root/examples/large.json" 200       # two hemispheres x 50k, 0.2 s
"$bench" "$root/examples/tiny.json" 1000
