#!/bin/sh
# The MPI executor end to end on loopback: usage run.sh THALIA MPI_TEST CONFIG [UNTIL].
# 1. `mpirun -np 3 thalia run CONFIG --executor mpi` prints the digest of the sequential run;
# 2. a trace recorded under MPI replays as identical in one process; regions split over worker
#    ranks (brunel.json over 3 and 4, brain.json over 4 and 7), exchanging spikes directly (and
#    once through rank 0, --exchange star), give the sequential digest and replay; a run that
#    does not record sends rank 0 no spike (the --summary's per-worker counts);
# 3. mpi_test (the Brain API under MPI: every placement, both exchanges, states across modes;
#    under -np 8 regions split over 4 and 7 worker ranks, every spike) passes;
# 4. a worker rank that throws, hangs or dies ends the job with a clear message, quickly;
# 5. unusable input ends every rank with exit status 2.
set -u
THALIA=$1
MPI_TEST=$2
CONFIG=$3
UNTIL=${4:-200ms}

# One machine, loopback only; root needs --allow-run-as-root. Shared memory without CMA, which
# containers often forbid.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN="mpirun --allow-run-as-root --oversubscribe --mca btl self,vader --mca oob_tcp_if_include lo"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/thalia-mpi.XXXXXX") || exit 1
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
digest_of() { grep '^digest ' "$1" | tail -n 1; }

echo "== sequential and MPI digests of $CONFIG to $UNTIL"
"$THALIA" run "$CONFIG" --until "$UNTIL" --workers 0 --quiet >"$WORK/seq.out" 2>&1 || fail "sequential run: $(cat "$WORK/seq.out")"
timeout 300 $MPIRUN -np 3 "$THALIA" run "$CONFIG" --until "$UNTIL" --executor mpi --quiet \
  --record "$WORK/mpi.trace" >"$WORK/mpi.out" 2>&1 || fail "MPI run: $(cat "$WORK/mpi.out")"
seq_digest=$(digest_of "$WORK/seq.out")
mpi_digest=$(digest_of "$WORK/mpi.out")
echo "sequential: $seq_digest; MPI: $mpi_digest"
[ -n "$seq_digest" ] && [ "$seq_digest" = "$mpi_digest" ] || fail "MPI digest '$mpi_digest' differs from sequential '$seq_digest'"
grep -q 'mpi, 3 ranks' "$WORK/mpi.out" || fail "the MPI run did not say it ran on 3 ranks"
[ "$(grep -c '^digest ' "$WORK/mpi.out")" = 1 ] || fail "more than one rank printed results"

echo "== regions split over worker ranks: brunel.json over 3 and 4, brain.json (5 regions) over 4 and 7"
EXAMPLES=$(dirname "$CONFIG")
for case in "brunel.json 4 100ms direct" "brunel.json 5 100ms direct" "brunel.json 5 100ms star" \
            "brain.json 5 100ms direct" "brain.json 8 100ms direct"; do
  set -- $case
  "$THALIA" run "$EXAMPLES/$1" --until "$3" --workers 0 --quiet >"$WORK/split-seq.out" 2>&1 || fail "sequential $1: $(cat "$WORK/split-seq.out")"
  timeout 300 $MPIRUN -np "$2" "$THALIA" run "$EXAMPLES/$1" --until "$3" --executor mpi --exchange "$4" \
    --record "$WORK/split.trace" --summary "$WORK/split-rec.json" >"$WORK/split.out" 2>&1 || fail "MPI -np $2 $1 ($4): $(cat "$WORK/split.out")"
  want=$(digest_of "$WORK/split-seq.out")
  got=$(digest_of "$WORK/split.out")
  echo "$1 on $2 ranks, $4 exchange: sequential $want; MPI $got"
  [ -n "$want" ] && [ "$want" = "$got" ] || fail "MPI -np $2 $1 ($4): digest '$got', sequential '$want'"
  grep -q "$4 exchange" "$WORK/split.out" || fail "MPI -np $2 $1 did not say it used the $4 exchange"
  [ "$(grep -c '^worker ' "$WORK/split.out")" = "$(($2 - 1))" ] || fail "MPI -np $2 $1 did not use every worker rank: $(cat "$WORK/split.out")"
  grep -q '"spikes_to_coordinator": [1-9]' "$WORK/split-rec.json" || fail "MPI -np $2 $1 ($4) recorded, yet sent rank 0 no spike"
  "$THALIA" replay "$WORK/split.trace" >"$WORK/split-replay.out" 2>&1 || fail "replay of the split MPI trace: $(cat "$WORK/split-replay.out")"
  grep -q '^identical' "$WORK/split-replay.out" || fail "split MPI trace ($1, $2 ranks, $4) did not replay identical"
  rm -f "$WORK/split.trace"
  if [ "$4" = direct ]; then
    # Not recording: the same digest, and not one spike to rank 0.
    timeout 300 $MPIRUN -np "$2" "$THALIA" run "$EXAMPLES/$1" --until "$3" --executor mpi \
      --summary "$WORK/split.json" >"$WORK/split-norec.out" 2>&1 || fail "MPI -np $2 $1 unrecorded: $(cat "$WORK/split-norec.out")"
    [ "$(digest_of "$WORK/split-norec.out")" = "$want" ] || fail "MPI -np $2 $1 unrecorded: digest $(digest_of "$WORK/split-norec.out"), sequential $want"
    workers=$(grep -c '"spikes_to_coordinator": 0,' "$WORK/split.json")
    [ "$workers" = "$(($2 - 1))" ] || fail "MPI -np $2 $1 without --record sent rank 0 spikes: $(cat "$WORK/split.json")"
  fi
done

echo "== regions split over 4 and 7 worker ranks through the Brain API, every spike (mpi_test -np 8)"
timeout 600 $MPIRUN -np 8 "$MPI_TEST" --gtest_filter='MpiSplit.*' >"$WORK/api-split.out" 2>&1 || fail "mpi_test -np 8: $(cat "$WORK/api-split.out")"
grep -q 'PASSED.*3 tests' "$WORK/api-split.out" || fail "mpi_test -np 8 did not pass its 3 tests: $(cat "$WORK/api-split.out")"

echo "== replay of the MPI trace in one process"
"$THALIA" replay "$WORK/mpi.trace" >"$WORK/replay.out" 2>&1 || fail "replay of the MPI trace: $(cat "$WORK/replay.out")"
grep -q '^identical' "$WORK/replay.out" || fail "replay did not report identical: $(cat "$WORK/replay.out")"

echo "== checkpoints across modes: MPI -> one process, one process -> MPI"
if "$THALIA" run --help 2>&1 | grep -q -- '--checkpoint-every'; then
  half=$(echo "$UNTIL" | sed -n 's/^\([0-9]*\)ms$/\1/p')
  [ -n "$half" ] || half=200  # UNTIL not in ms: checkpoints every 100ms
  half="$((half / 2))ms"
  timeout 300 $MPIRUN -np 3 "$THALIA" run "$CONFIG" --until "$UNTIL" --executor mpi --quiet \
    --checkpoint-every "$half" --checkpoint-dir "$WORK/ck-mpi" >"$WORK/ck1.out" 2>&1 || fail "MPI run with checkpoints: $(cat "$WORK/ck1.out")"
  ck=$(ls "$WORK"/ck-mpi/*.thck 2>/dev/null | head -n 1)
  [ -n "$ck" ] || fail "the MPI run wrote no checkpoint"
  "$THALIA" run --resume "$ck" --until "$UNTIL" --workers 0 --quiet >"$WORK/ck2.out" 2>&1 || fail "resume in one process: $(cat "$WORK/ck2.out")"
  [ "$(digest_of "$WORK/ck2.out")" = "$seq_digest" ] || fail "MPI checkpoint resumed in one process: $(digest_of "$WORK/ck2.out"), expected $seq_digest"
  "$THALIA" run "$CONFIG" --until "$UNTIL" --workers 0 --quiet --checkpoint-every "$half" \
    --checkpoint-dir "$WORK/ck-seq" >"$WORK/ck3.out" 2>&1 || fail "sequential run with checkpoints: $(cat "$WORK/ck3.out")"
  ck=$(ls "$WORK"/ck-seq/*.thck 2>/dev/null | head -n 1)
  [ -n "$ck" ] || fail "the sequential run wrote no checkpoint"
  timeout 300 $MPIRUN -np 3 "$THALIA" run --resume "$ck" --until "$UNTIL" --executor mpi --quiet \
    >"$WORK/ck4.out" 2>&1 || fail "resume under MPI: $(cat "$WORK/ck4.out")"
  [ "$(digest_of "$WORK/ck4.out")" = "$seq_digest" ] || fail "sequential checkpoint resumed under MPI: $(digest_of "$WORK/ck4.out"), expected $seq_digest"
  # brunel.json in 4 parts on 4 worker ranks (direct exchange: spikes in flight at the ranks),
  # resumed in one process and on 2 worker ranks.
  "$THALIA" run "$EXAMPLES/brunel.json" --until 100ms --workers 0 --quiet >"$WORK/ck5.out" 2>&1 || fail "sequential brunel: $(cat "$WORK/ck5.out")"
  timeout 300 $MPIRUN -np 5 "$THALIA" run "$EXAMPLES/brunel.json" --until 100ms --executor mpi --quiet \
    --checkpoint-every 50ms --checkpoint-dir "$WORK/ck-split" >"$WORK/ck6.out" 2>&1 || fail "MPI -np 5 brunel with checkpoints: $(cat "$WORK/ck6.out")"
  ck=$(ls "$WORK"/ck-split/*.thck 2>/dev/null | head -n 1)
  [ -n "$ck" ] || fail "the split MPI run wrote no checkpoint"
  "$THALIA" run --resume "$ck" --until 100ms --workers 0 --quiet >"$WORK/ck7.out" 2>&1 || fail "resume of the split checkpoint in one process: $(cat "$WORK/ck7.out")"
  [ "$(digest_of "$WORK/ck7.out")" = "$(digest_of "$WORK/ck5.out")" ] || fail "split MPI checkpoint resumed in one process: $(digest_of "$WORK/ck7.out"), expected $(digest_of "$WORK/ck5.out")"
  timeout 300 $MPIRUN -np 3 "$THALIA" run --resume "$ck" --until 100ms --executor mpi --quiet >"$WORK/ck8.out" 2>&1 || fail "resume of the split checkpoint on 2 worker ranks: $(cat "$WORK/ck8.out")"
  [ "$(digest_of "$WORK/ck8.out")" = "$(digest_of "$WORK/ck5.out")" ] || fail "split MPI checkpoint resumed on 2 ranks: $(digest_of "$WORK/ck8.out"), expected $(digest_of "$WORK/ck5.out")"
else
  echo "SKIP: this thalia has no --checkpoint-every (states across modes are still checked by mpi_test)"
fi

echo "== the Brain API under MPI"
timeout 600 $MPIRUN -np 3 "$MPI_TEST" >"$WORK/api.out" 2>&1 || fail "mpi_test: $(cat "$WORK/api.out")"
grep -q 'PASSED' "$WORK/api.out" || fail "mpi_test did not pass: $(cat "$WORK/api.out")"

# mode, what the message must say
check_fault() {
  start=$(date +%s)
  timeout 90 $MPIRUN -np 3 "$MPI_TEST" --fault "$1" >"$WORK/fault.out" 2>&1
  status=$?
  took=$(( $(date +%s) - start ))
  echo "fault $1: exit status $status after ${took}s"
  [ "$status" -ne 0 ] || fail "fault $1: the job succeeded"
  [ "$status" -ne 124 ] || fail "fault $1: the job hung (killed by timeout)"
  grep -q "$2" "$WORK/fault.out" || fail "fault $1: no '$2' in: $(cat "$WORK/fault.out")"
}
echo "== failing worker ranks"
check_fault throw "MPI rank 2 (worker 1, pid [0-9]*, region flaky) failed: region 'flaky' threw: synthetic failure in epoch 3 during epoch 3"
check_fault hang "MPI rank 2 (worker 1, pid [0-9]*, region flaky) hung: no reply within 2000 ms during epoch 3"
check_fault exit "exited"  # no Error sent: mpirun itself reports the rank that ended

echo "== unusable input"
timeout 60 $MPIRUN -np 3 "$THALIA" run "$WORK/missing.json" --executor mpi >"$WORK/bad.out" 2>&1
status=$?
[ "$status" -eq 2 ] || fail "missing configuration under MPI: exit status $status, expected 2"
grep -q 'cannot open the configuration file' "$WORK/bad.out" || fail "missing configuration: $(cat "$WORK/bad.out")"
"$THALIA" run "$CONFIG" --executor mpi --quiet >"$WORK/single.out" 2>&1
status=$?
[ "$status" -eq 2 ] || fail "a single rank: exit status $status, expected 2"
grep -q 'at least 2 ranks' "$WORK/single.out" || fail "a single rank: $(cat "$WORK/single.out")"

if [ "$failures" -ne 0 ]; then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all MPI checks passed"
