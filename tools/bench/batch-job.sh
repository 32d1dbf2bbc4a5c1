#!/usr/bin/env bash
# The job bench:batch times, in the pool and back to back alike: runs $BENCH_PIPELINE with
# the arguments given, then appends "START END EXIT_CODE HOST ARGS" (seconds since the epoch, to
# the nanosecond; HOST tells the self-hosted pool's workers apart) to the file $BENCH_TIMES. Exits with the pipeline's code.
set -uo pipefail

main() {
  local start rc
  start="$(date +%s.%N)"
  "${BENCH_PIPELINE:?}" "$@"
  rc=$?
  printf '%s %s %s %s %s\n' "${start}" "$(date +%s.%N)" "${rc}" "$(hostname)" "$*" >>"${BENCH_TIMES:?}"
  return "${rc}"
}

main "$@"
