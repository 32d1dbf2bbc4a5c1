#!/usr/bin/env bash
# Drains one worker of a self-hosted pool before its server is deleted (a scale-down): runs
# on the submit node (the central manager) as root, as the `delete` of the worker's
# remote.Command, so it finishes before Pulumi deletes that worker.
#
#   drain-worker.sh --worker HOSTNAME [--timeout SECONDS] [--poll SECONDS]
#
# Root, because draining and turning off a startd are ADMINISTRATOR operations: the pool's
# configuration (components/pool-user-data.ts) grants them to condor@ (the daemons) and to
# root@ inside the pool network, never to the submitting user, who must not be able to take
# workers away from other jobs.
#
# 1. `condor_drain -graceful` the worker's startd: no new job starts there, running jobs run
#    to completion (the workers promise MAXJOBRETIREMENTTIME, so none is evicted).
# 2. Waits, bounded by --timeout, until no slot of the worker is Claimed, printing a progress
#    line, or until the worker has left the collector.
# 3. `condor_off -fast -startd` (nothing is running any more), so its slots leave the pool and
#    nothing can match it before the server goes.
# A worker that is not in the collector (already gone, or never joined) is success: running
# the script again, or for a worker the cloud already removed, changes nothing.
#
# Exit codes: 0 drained and off (or already gone); 2 bad arguments; 5 HTCondor commands kept
# failing (collector unreachable, drain refused); 8 --timeout passed with jobs still running
# (the worker stays drained: no new job starts, the running ones continue; run again to wait
# longer, or `condor_drain -cancel WORKER` to put it back in service).
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_USAGE=2 EXIT_CONDOR=5 EXIT_TIMEOUT=8
readonly QUERY_ERRORS_TOLERATED=3

usage() {
  cat >&2 <<EOF
usage: ${PROG} --worker HOSTNAME [--timeout SECONDS] [--poll SECONDS]

Drains HOSTNAME's startd gracefully (running jobs finish, no new ones start), waits until
none of its slots is claimed, then turns its startd off so it leaves the pool. Run as root
on the submit node.

  --worker HOSTNAME   the worker's host name (its HTCondor Machine)
  --timeout SECONDS   give up after this long (default 86400, the workers' retirement time)
  --poll SECONDS      seconds between checks (default 10)

Exit codes: 0 drained (or already gone), 2 usage, 5 HTCondor commands failing,
            8 timeout with jobs still running.
EOF
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

# The worker's slots as "Name State Activity" lines (none when it is not in the collector).
# Machine may be the bare host name or a full one, so both are matched.
SLOTS=""
query_slots() {
  local worker="$1"
  SLOTS="$(condor_status -startd -constraint "Machine == \"${worker}\" || regexp(\"^${worker}\\\\.\", Machine)" -af Name State Activity 2>&1)"
}

claimed_count() {
  awk '$2 == "Claimed" { n++ } END { print n + 0 }' <<<"$1"
}

main() {
  local worker="" timeout=86400 poll=10
  while (($# > 0)); do
    case "$1" in
      --worker | --timeout | --poll)
        [[ $# -ge 2 && -n "$2" ]] || { err "$1 needs a value"; usage; exit "${EXIT_USAGE}"; }
        case "$1" in
          --worker) worker="$2" ;;
          --timeout) timeout="$2" ;;
          --poll) poll="$2" ;;
        esac
        shift 2
        ;;
      -h | --help) usage; exit 0 ;;
      *) err "unknown argument '$1'"; usage; exit "${EXIT_USAGE}" ;;
    esac
  done
  # A DNS label, as components/pool-user-data.ts requires of every node's host name: it also
  # keeps the ClassAd constraint above free of quotes.
  [[ "${worker}" =~ ^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$ ]] ||
    { err "--worker '${worker}': expected a host name (a DNS label: letters, digits and '-')"; usage; exit "${EXIT_USAGE}"; }
  [[ "${timeout}" =~ ^[1-9][0-9]{0,6}$ ]] || { err "--timeout '${timeout}': expected a positive number of seconds"; exit "${EXIT_USAGE}"; }
  [[ "${poll}" =~ ^[1-9][0-9]{0,4}$ ]] || { err "--poll '${poll}': expected a positive number of seconds"; exit "${EXIT_USAGE}"; }

  local errors=0
  until query_slots "${worker}"; do
    errors=$((errors + 1))
    ((errors > QUERY_ERRORS_TOLERATED)) && { err "condor_status keeps failing: ${SLOTS}"; exit "${EXIT_CONDOR}"; }
    sleep "${poll}"
  done
  if [[ -z "${SLOTS}" ]]; then
    log "${worker} is not in the pool (already drained, gone or never joined): nothing to do"
    return 0
  fi

  local out
  if ! out="$(condor_drain -graceful -reason "scale-down by canfar-batch" "${worker}" 2>&1)"; then
    # A second run finds the worker already draining; anything else is a real refusal.
    if ! condor_status -startd -constraint "(Machine == \"${worker}\" || regexp(\"^${worker}\\\\.\", Machine)) && Draining =?= true" -af Name 2>/dev/null | grep -q .; then
      err "condor_drain ${worker} failed: ${out}"
      exit "${EXIT_CONDOR}"
    fi
    log "${worker} is already draining"
  else
    log "draining ${worker} gracefully: running jobs finish, no new job starts there"
  fi

  local start="${SECONDS}" claimed last=""
  errors=0
  while :; do
    if ! query_slots "${worker}"; then
      errors=$((errors + 1))
      ((errors > QUERY_ERRORS_TOLERATED)) && { err "condor_status keeps failing: ${SLOTS}"; exit "${EXIT_CONDOR}"; }
    else
      errors=0
      if [[ -z "${SLOTS}" ]]; then
        log "${worker} left the pool"
        return 0
      fi
      claimed="$(claimed_count "${SLOTS}")"
      ((claimed == 0)) && break
      # The progress line, printed when the picture changes or once a minute.
      local line="${worker}: ${claimed} slot(s) still running a job, waiting ($((SECONDS - start)) s of ${timeout} s)"
      if [[ "${claimed}" != "${last}" || $(((SECONDS - start) % 60)) -lt "${poll}" ]]; then
        log "${line}"
        last="${claimed}"
      fi
    fi
    if ((SECONDS - start >= timeout)); then
      err "${worker} still runs jobs after ${timeout} s; it stays drained (no new job starts). Run again to wait longer, or put it back with: condor_drain -cancel ${worker}"
      exit "${EXIT_TIMEOUT}"
    fi
    sleep "${poll}"
  done

  log "${worker} is drained; turning its startd off"
  if ! out="$(condor_off -fast -startd -name "${worker}" 2>&1)"; then
    # It may have left between the check and condor_off: gone is what was wanted.
    query_slots "${worker}" || true
    [[ -z "${SLOTS}" ]] || { err "condor_off ${worker} failed: ${out}"; exit "${EXIT_CONDOR}"; }
  fi
  log "${worker} drained and off"
}

main "$@"
