#!/usr/bin/env bash
# Follows a submitted cluster until its jobs have left the queue: the documented way to
# watch a run, on the batch host as the user who submitted (submit.sh prints the cluster).
#
#   follow.sh CLUSTER [--interval SECONDS] [--timeout SECONDS]
#
# CLUSTER `null` (what submit.sh reports when a campaign's submission queued nothing) says so
# and succeeds: there is nothing to follow (campaign.sh shows the whole campaign).
# Prints a line whenever the picture changes, e.g.
#   cluster 1234: 3 idle, 1 running, 96 done, 0 held of 100
# from `condor_q CLUSTER -af ProcId JobStatus` (jobs still queued) and
# `condor_history CLUSTER -af ProcId JobStatus ExitCode` (jobs that left the queue).
# Held jobs never leave the queue by themselves: once only held jobs remain, it stops and
# prints each one's observation ID and hold reason, then the command that runs just those
# jobs again (`condor_release CLUSTER`). do_catalogue.sub holds every job that fails.
#
# Exit codes: 0 every job completed with exit code 0; 1 a job exited non-zero or was
# removed; 2 bad arguments; 3 no job of that cluster in the queue or history; 4 jobs held;
# 5 condor_q/condor_history kept failing; 8 --timeout reached.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_JOB_FAILED=1 EXIT_USAGE=2 EXIT_UNKNOWN=3 EXIT_HELD=4 EXIT_CONDOR=5 EXIT_TIMEOUT=8
readonly QUERY_ERRORS_TOLERATED=3
# HTCondor JobStatus values.
readonly IDLE=1 RUNNING=2 REMOVED=3 COMPLETED=4 HELD=5 TRANSFERRING=6 SUSPENDED=7

usage() {
  cat >&2 <<EOF
usage: ${PROG} CLUSTER [--interval SECONDS] [--timeout SECONDS]

Polls condor_q and condor_history for CLUSTER (null: nothing was queued, nothing to follow)
and prints
  cluster C: I idle, R running, D done, H held of N
until no job of the cluster is left in the queue.

  --interval SECONDS   seconds between polls (default 30)
  --timeout SECONDS    give up after this long (default: never)

A job that fails is held (do_catalogue.sub sets on_exit_hold): once only held jobs are
left, their observation IDs and reasons are listed with the command that runs just those
jobs again, condor_release CLUSTER.

Exit codes: 0 all jobs exited 0, 1 a job failed or was removed, 2 usage, 3 unknown
cluster, 4 jobs held, 5 condor commands failing, 8 timeout.
EOF
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

# Fills QUEUE (ProcId JobStatus lines) and HISTORY (ProcId JobStatus ExitCode lines).
QUEUE=""
HISTORY=""
query() {
  local cluster="$1"
  QUEUE="$(condor_q "${cluster}" -af ProcId JobStatus 2>&1)" || return 1
  HISTORY="$(condor_history "${cluster}" -af ProcId JobStatus ExitCode 2>&1)" || return 1
}

# The submit file holds a job that fails (on_exit_hold), with the pipeline's reason: list
# them by observation ID and say the one command that runs just those again.
report_held() {
  local cluster="$1" held="$2"
  err "cluster ${cluster}: ${held} job(s) held; they will not run until released or removed:"
  condor_q "${cluster}" -constraint "JobStatus == ${HELD}" -af ProcId Args HoldReason 2>&1 |
    awk -v c="${cluster}" '{ proc = $1; id = $2; $1 = ""; $2 = ""; sub(/^ +/, ""); printf "  %s.%s %s: %s\n", c, proc, id, $0 }' >&2 || true
  {
    printf 'Once the cause is fixed, run just these jobs again with:\n  condor_release %s\n' "${cluster}"
    printf 'or give up on them with:\n  condor_rm %s\n' "${cluster}"
  } >&2
}

count_status() {
  awk -v want="$2" 'NF >= 2 && $2 == want { n++ } END { print n + 0 }' <<<"$1"
}

main() {
  local cluster="" interval=30 timeout=0
  while (($# > 0)); do
    case "$1" in
      --interval | --timeout)
        [[ $# -ge 2 && -n "$2" ]] || { err "$1 needs a value"; usage; exit "${EXIT_USAGE}"; }
        if [[ "$1" == "--interval" ]]; then interval="$2"; else timeout="$2"; fi
        shift 2
        ;;
      -h | --help) usage; exit 0 ;;
      -*) err "unknown argument '$1'"; usage; exit "${EXIT_USAGE}" ;;
      *)
        [[ -z "${cluster}" ]] || { err "one cluster only (got '${cluster}' and '$1')"; exit "${EXIT_USAGE}"; }
        cluster="$1"
        shift
        ;;
    esac
  done
  if [[ "${cluster}" == "null" ]]; then
    printf 'this submission queued nothing: every exposure was already catalogued (bash campaign.sh shows the whole campaign)\n'
    exit 0
  fi
  [[ "${cluster}" =~ ^[0-9]+$ ]] || { err "CLUSTER '${cluster}': expected a cluster number such as 1234"; usage; exit "${EXIT_USAGE}"; }
  [[ "${interval}" =~ ^[1-9][0-9]*$ ]] || { err "--interval '${interval}': expected a positive number of seconds"; exit "${EXIT_USAGE}"; }
  [[ "${timeout}" =~ ^[0-9]+$ ]] || { err "--timeout '${timeout}': expected a number of seconds"; exit "${EXIT_USAGE}"; }

  local start="${SECONDS}" errors=0 last="" line
  local idle running held finished removed total
  while :; do
    if ! query "${cluster}"; then
      errors=$((errors + 1))
      ((errors > QUERY_ERRORS_TOLERATED)) && { err "condor_q/condor_history failing: ${QUEUE}${HISTORY}"; exit "${EXIT_CONDOR}"; }
      sleep "${interval}"
      continue
    fi
    errors=0
    idle="$(count_status "${QUEUE}" "${IDLE}")"
    running=$(($(count_status "${QUEUE}" "${RUNNING}") + $(count_status "${QUEUE}" "${TRANSFERRING}") + $(count_status "${QUEUE}" "${SUSPENDED}")))
    held="$(count_status "${QUEUE}" "${HELD}")"
    finished="$(count_status "${HISTORY}" "${COMPLETED}")"
    removed=$(($(count_status "${QUEUE}" "${REMOVED}") + $(count_status "${HISTORY}" "${REMOVED}")))
    total=$((idle + running + held + finished + removed))
    if ((total == 0)); then
      err "cluster ${cluster}: no job in the queue or the history (wrong cluster, or another user's jobs?)"
      exit "${EXIT_UNKNOWN}"
    fi
    line="cluster ${cluster}: ${idle} idle, ${running} running, ${finished} done, ${held} held of ${total}"
    ((removed == 0)) || line="${line} (${removed} removed)"
    [[ "${line}" == "${last}" ]] || printf '%s\n' "${line}"
    last="${line}"
    if ((idle + running == 0 && held > 0)); then
      report_held "${cluster}" "${held}"
      exit "${EXIT_HELD}"
    fi
    ((idle + running + held + $(count_status "${QUEUE}" "${REMOVED}") == 0)) && break
    if ((timeout > 0 && SECONDS - start >= timeout)); then
      err "cluster ${cluster} still has jobs after ${timeout} s: ${line}"
      exit "${EXIT_TIMEOUT}"
    fi
    sleep "${interval}"
  done

  local failed
  failed="$(awk -v c="${COMPLETED}" -v cl="${cluster}" 'NF >= 3 && $2 == c && $3 != "0" { printf "  job %s.%s exited %s\n", cl, $1, $3 }' <<<"${HISTORY}")"
  if [[ -n "${failed}" || "${removed}" -gt 0 ]]; then
    err "cluster ${cluster}: not every job succeeded (logs: do_catalogue-<id>.err in the run directory)"
    [[ -z "${failed}" ]] || printf '%s\n' "${failed}" >&2
    ((removed == 0)) || printf '  %s job(s) removed before completing\n' "${removed}" >&2
    exit "${EXIT_JOB_FAILED}"
  fi
  printf 'cluster %s: all %s job(s) done, exit code 0\n' "${cluster}" "${finished}"
}

main "$@"
