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
# 1. `condor_drain -graceful -exit-on-completion` the worker's startd: no new job starts
#    there, running jobs run to completion (the workers promise MAXJOBRETIREMENTTIME, so none
#    is evicted), then the startd exits and its master does not restart it.
# 2. Waits, bounded by --timeout, until the worker's slots have left the collector: nothing runs
#    there and nothing can match it before the server goes. The progress line counts the jobs
#    this node's schedd runs there.
# A worker that is not in the collector (already gone, or never joined) is success: running
# the script again, or for a worker the cloud already removed, changes nothing.
#
# Exit codes: 0 drained and out of the pool (or already gone); 2 bad arguments or not root; 5 HTCondor commands kept
# failing (collector unreachable, drain refused); 8 --timeout passed with jobs still running
# (the worker stays drained: no new job starts, the running ones continue; run again to wait
# longer, or `condor_drain -cancel ADDRESS`, as printed, to put it back in service).
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_USAGE=2 EXIT_CONDOR=5 EXIT_TIMEOUT=8
readonly QUERY_ERRORS_TOLERATED=3

usage() {
  cat >&2 <<EOF
usage: ${PROG} --worker HOSTNAME [--timeout SECONDS] [--poll SECONDS]

Drains HOSTNAME's startd gracefully (running jobs finish, no new ones start; then the startd
exits) and waits until it has left the pool. Run as root on the submit node.

  --worker HOSTNAME   the worker's host name (its HTCondor Machine)
  --timeout SECONDS   give up after this long (default 86400, the workers' retirement time)
  --poll SECONDS      seconds between checks (default 10)

Exit codes: 0 drained (or already gone), 2 usage or not root, 5 HTCondor commands failing,
            8 timeout with jobs still running.
EOF
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

# Root on the submit node authenticates to a worker's startd with an IDTOKEN of its own, made
# here from the pool key (readable by root only) and valid for this run only: identity
# root@TRUST_DOMAIN, limited to ADMINISTRATOR and READ, in a private directory removed on exit.
TOKEN_DIR=""
remove_token() { [[ -z "${TOKEN_DIR}" ]] || rm -rf -- "${TOKEN_DIR}"; }
trap remove_token EXIT
make_token() {
  local lifetime="$1" trust
  trust="$(condor_config_val TRUST_DOMAIN 2>/dev/null)" || { err "condor_config_val TRUST_DOMAIN failed: is this a pool's submit node?"; exit "${EXIT_CONDOR}"; }
  TOKEN_DIR="$(umask 077 && mktemp -d)"
  if ! (umask 077 && condor_token_create -identity "root@${trust}" -authz ADMINISTRATOR -authz READ -lifetime "${lifetime}" >"${TOKEN_DIR}/drain-worker" 2>"${TOKEN_DIR}/error"); then
    err "could not make a token from the pool key: $(cat "${TOKEN_DIR}/error")"
    exit "${EXIT_CONDOR}"
  fi
  rm -f -- "${TOKEN_DIR}/error"
  export _CONDOR_SEC_TOKEN_DIRECTORY="${TOKEN_DIR}"
}

# The worker's slots as "Name State Activity MyAddress" lines (none when it is not in the
# collector). Machine may be the bare host name or a full one, so both are matched.
SLOTS=""
query_slots() {
  local worker="$1"
  SLOTS="$(condor_status -startd -constraint "Machine == \"${worker}\" || regexp(\"^${worker}\\\\.\", Machine)" -af Name State Activity MyAddress 2>&1)"
}

# Jobs the pool's schedd (this node's: the pool has one) is running on the worker: its view is
# current, where the collector's slot ads lag by an update interval.
RUNNING=""
running_jobs() {
  local worker="$1"
  RUNNING="$(condor_q -allusers -constraint "JobStatus == 2 && (regexp(\"@${worker}\$\", RemoteHost) || regexp(\"@${worker}\\\\.\", RemoteHost))" -af GlobalJobId 2>&1)" || return 1
  RUNNING="$(grep -c . <<<"${RUNNING}" || true)"
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

  ((EUID == 0)) || { err "run as root on the submit node: draining is an ADMINISTRATOR operation, made with the pool key"; exit "${EXIT_USAGE}"; }
  make_token $((timeout + 600))

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

  # The startd is named by the address the collector has for it: condor_drain
  # would otherwise resolve the host name, and a project network need not have DNS for it.
  local out address
  address="$(awk 'NR == 1 { print $4 }' <<<"${SLOTS}")"
  [[ "${address}" == \<* ]] || { err "the collector has no address for ${worker}'s startd: ${SLOTS}"; exit "${EXIT_CONDOR}"; }
  if ! out="$(condor_drain -graceful -exit-on-completion -reason "scale-down by canfar-batch" "${address}" 2>&1)"; then
    # A second run finds the worker already draining; anything else is a real refusal.
    if ! condor_status -startd -constraint "(Machine == \"${worker}\" || regexp(\"^${worker}\\\\.\", Machine)) && Draining =?= true" -af Name 2>/dev/null | grep -q .; then
      err "condor_drain ${worker} failed: ${out}"
      exit "${EXIT_CONDOR}"
    fi
    log "${worker} is already draining"
  else
    log "draining ${worker} gracefully: running jobs finish, no new job starts there, then its startd exits"
  fi

  local start="${SECONDS}" running last=""
  errors=0
  while :; do
    if ! query_slots "${worker}"; then
      errors=$((errors + 1))
      ((errors > QUERY_ERRORS_TOLERATED)) && { err "condor_status keeps failing: ${SLOTS}"; exit "${EXIT_CONDOR}"; }
    else
      errors=0
      if [[ -z "${SLOTS}" ]]; then
        log "${worker} is drained and has left the pool"
        return 0
      fi
      if running_jobs "${worker}"; then running="${RUNNING}"; else running="?"; fi
      # The progress line, printed when the picture changes or about once a minute.
      if [[ "${running}" != "${last}" || $(((SECONDS - start) % 60)) -lt "${poll}" ]]; then
        log "${worker}: ${running} job(s) still running there, waiting ($((SECONDS - start)) s of ${timeout} s)"
        last="${running}"
      fi
    fi
    if ((SECONDS - start >= timeout)); then
      err "${worker} is still in the pool after ${timeout} s; it stays drained (no new job starts, its startd exits once its jobs end). Run again to wait longer, or put it back with: condor_drain -cancel '${address}'"
      exit "${EXIT_TIMEOUT}"
    fi
    sleep "${poll}"
  done
}

main "$@"
