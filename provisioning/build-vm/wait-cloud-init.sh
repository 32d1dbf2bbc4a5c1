#!/usr/bin/env bash
# Waits until cloud-init has finished on this machine and says clearly when it failed,
# so provisioning never runs on a half-configured VM (`cloud-init status --wait` alone
# exits 1 with little said; 2 means it finished with recoverable errors).
#
# Usage: wait-cloud-init.sh [--timeout SECONDS]
# Exit: 0 done (also with recoverable errors, reported), 1 cloud-init failed,
# 2 bad usage, 3 timed out.
set -Eeuo pipefail

readonly PROG="wait-cloud-init"
# Package installs on a fresh VM take minutes; an hour means something is stuck.
readonly DEFAULT_TIMEOUT=3600

usage() {
  cat >&2 <<USAGE
Usage: ${0##*/} [--timeout SECONDS]
Wait (default at most ${DEFAULT_TIMEOUT} s) for cloud-init to finish; fail with its
status and log excerpts when it reports an error.
USAGE
}

err() { echo "${PROG}: error: $*" >&2; }
say() { echo "${PROG}: $*" >&2; }

show_failure() {
  cloud-init status --long >&2 || true
  local log
  for log in /var/log/cloud-init-output.log /var/log/cloud-init.log; do
    if [[ -r "${log}" ]]; then
      echo "--- last lines of ${log}" >&2
      tail -n 25 "${log}" >&2
    fi
  done
}

main() {
  local timeout_s="${DEFAULT_TIMEOUT}" rc=0
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --help | -h) usage; exit 0 ;;
      --timeout)
        if [[ $# -lt 2 || ! "$2" =~ ^[1-9][0-9]{0,5}$ ]]; then
          usage
          err "--timeout needs a whole number of seconds, got '${2:-}'"
          exit 2
        fi
        timeout_s="$2"
        shift 2
        ;;
      *) usage; err "unknown argument '$1'"; exit 2 ;;
    esac
  done
  command -v cloud-init >/dev/null || { err "cloud-init is not installed"; exit 1; }
  say "waiting for cloud-init (at most ${timeout_s} s)"
  timeout "${timeout_s}" cloud-init status --wait >/dev/null || rc=$?
  case "${rc}" in
    0) say "cloud-init done" ;;
    2) say "cloud-init done with recoverable errors:"; cloud-init status --long >&2 || true ;;
    124) err "cloud-init still running after ${timeout_s} s"; exit 3 ;;
    *) err "cloud-init reports an error (status exit ${rc}):"; show_failure; exit 1 ;;
  esac
}

main "$@"
