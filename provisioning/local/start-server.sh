#!/usr/bin/env bash
# Makes sure the build VM is running before anything is run on it over SSH: run locally by
# the program (local.Command) whenever provisioning or the snapshot will run again.
# create-image.sh leaves the VM stopped (SHUTOFF) after a snapshot, so a later change to a
# provisioning script would otherwise dial a stopped machine until SSH gives up.
#
#   start-server.sh --server SERVER_ID [--timeout SECONDS]
#
# Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
# Exit codes: 0 running, 2 bad arguments, 3 the server no longer exists,
#             4 the server is in ERROR, 8 not ACTIVE after --timeout, 9 the cloud failed.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_GONE=3 EXIT_ERROR=4 EXIT_TIMEOUT=8 EXIT_CLI=9
readonly POLL_SECONDS="${CANFAR_START_POLL_SECONDS:-5}"
# shellcheck source-path=SCRIPTDIR source=openstack-cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/openstack-cli.sh"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} --server SERVER_ID [--timeout SECONDS]

Starts the build VM when it is stopped (SHUTOFF) and waits until it is ACTIVE; does
nothing when it already is.

  --server SERVER_ID   the build VM
  --timeout SECONDS    wait at most this long for ACTIVE (default 600)

Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
Exit codes: 0 running, 2 usage, 3 server gone, 4 server in ERROR, 8 timeout, 9 cloud failed.
EOF_USAGE
}

status_of() {
  local server="$1"
  os_status_or_die server "${server}" "${EXIT_GONE}" \
    "build VM '${server}' no longer exists (deleted after the snapshot?); run \`pulumi refresh\` so Pulumi recreates it, then \`pulumi up\`"
  STATUS="${OS_OUT}"
}

main() {
  local server="" timeout=600
  cli_options --server=server --timeout=timeout -- "$@"
  [[ -n "${server}" ]] || usage_error "--server is required (the build VM's ID)"
  require_server_id "${server}"
  require_seconds --timeout "${timeout}"
  os_cli_init

  local start="${SECONDS}" STATUS=""
  status_of "${server}"
  if [[ "${STATUS}" == "SHUTOFF" ]]; then
    log "build VM ${server} is stopped (after a snapshot); starting it"
    os_cli server start "${server}" || die "${EXIT_CLI}" "Error starting server '${server}': ${OS_MSG}"
  fi
  while [[ "${STATUS}" != "ACTIVE" ]]; do
    [[ "${STATUS}" != "ERROR" ]] || die "${EXIT_ERROR}" "build VM '${server}' is in ERROR; see \`openstack server show ${server}\`"
    ((SECONDS - start < timeout)) || die "${EXIT_TIMEOUT}" "build VM '${server}' still ${STATUS} after ${timeout} s"
    log "waiting for build VM ${server}: ${STATUS} ($((SECONDS - start)) s of ${timeout} s)"
    sleep "${POLL_SECONDS}"
    status_of "${server}"
  done
  log "build VM ${server} is ACTIVE"
}

main "$@"
