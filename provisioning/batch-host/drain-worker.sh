#!/usr/bin/env bash
# PLACEHOLDER for the drain script branch `pool-core` writes (the integrator keeps theirs):
# the interface the program calls on the submit node before a worker's server is deleted.
#
#   drain-worker.sh --worker HOSTNAME --timeout SECONDS
#
# Drains the worker (condor_drain: no new jobs start, running ones finish), waits at most
# SECONDS for its running jobs to end, and exits 0 either way: a worker that never joined
# or is already gone has nothing to drain, and the delete must not hang for ever.
set -Eeuo pipefail

readonly PROG="${0##*/}"
die() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; exit 2; }

main() {
  local worker="" timeout=""
  while (($# > 0)); do
    case "$1" in
      --worker) worker="${2-}"; shift 2 || die "--worker needs a value" ;;
      --timeout) timeout="${2-}"; shift 2 || die "--timeout needs a value" ;;
      *) die "unknown argument '$1'" ;;
    esac
  done
  [[ "${worker}" =~ ^[A-Za-z0-9][A-Za-z0-9.-]*$ ]] || die "--worker '${worker}': expected a host name"
  [[ "${timeout}" =~ ^[1-9][0-9]*$ ]] || die "--timeout '${timeout}': expected a positive number of seconds"
  if ! condor_drain -graceful "${worker}" >&2; then
    printf '%s: %s is not in the pool; nothing to drain\n' "${PROG}" "${worker}" >&2
    return 0
  fi
  local deadline=$((SECONDS + timeout)) busy
  while ((SECONDS < deadline)); do
    busy="$(condor_status -constraint 'State == "Claimed"' -af Machine 2>/dev/null | grep -cx -- "${worker}" || true)"
    ((busy == 0)) && return 0
    sleep 10
  done
  printf '%s: %s still runs jobs after %s s; deleting it anyway\n' "${PROG}" "${worker}" "${timeout}" >&2
}

main "$@"
