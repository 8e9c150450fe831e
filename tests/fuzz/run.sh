#!/usr/bin/env bash
# Runs every fuzz target with libFuzzer (clang, address+undefined sanitizers) for a bounded time.
# usage: tests/fuzz/run.sh [SECONDS_PER_TARGET=60] [BUILD_DIR=build-fuzz]
# A crash leaves its input in the build folder; copy it into tests/fuzz/corpus/<target>/ once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-60}
dir=${2:-build-fuzz}
if [ ! -d "$dir" ]; then
  CXX=clang++ meson setup "$dir" -Dfuzzing=enabled -Dtests=disabled -Db_sanitize=address,undefined \
    -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$dir"
# Undefined behaviour is a crash like any other: stop there and keep the input.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
status=0
for exe in "$dir"/tests/fuzz/fuzz_*; do
  [ -f "$exe" ] && [ -x "$exe" ] || continue
  exe=$(realpath "$exe")
  name=$(basename "$exe" | sed 's/^fuzz_//')
  work=$(mktemp -d)
  cp -r tests/fuzz/corpus/"$name"/. "$work"/
  echo "== fuzz $name for ${secs}s"
  if ! (cd "$dir" && "$exe" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=20 "$work" 2>&1 | tail -4); then
    status=1
  fi
  rm -rf "$work"
done
exit $status
