#!/usr/bin/env bash
# Deletes the build VM once its snapshot is safe: run locally by the snapshot component
# (local.Command) when the stack config asks to remove the build VM after the snapshot.
#
#   delete-server.sh --server SERVER_ID --image IMAGE_ID [--timeout SECONDS]
#
# The image is checked again right before the delete: the VM holds the only copy of the
# work until its image is `active`. A server that is already gone counts as deleted.
# Waits (bounded) until the server is gone so the port and floating IP can be released.
# Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
# Exit codes: 0 deleted or absent, 2 bad arguments, 3 image not active (server kept),
#             8 server still present after --timeout, 9 the cloud refused or failed.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_IMAGE=3 EXIT_TIMEOUT=8 EXIT_CLI=9
readonly POLL_SECONDS=5
# shellcheck source-path=SCRIPTDIR source=openstack-cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/openstack-cli.sh"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} --server SERVER_ID --image IMAGE_ID [--timeout SECONDS]

Deletes the build VM, only if IMAGE_ID (its snapshot) is active; a server that does not
exist counts as deleted.

  --server SERVER_ID   the build VM
  --image IMAGE_ID     the snapshot that must be active first
  --timeout SECONDS    wait at most this long for the server to disappear (default 600)

Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
Exit codes: 0 deleted or absent, 2 usage, 3 image not active (server kept),
            8 server still there after the timeout, 9 the cloud refused or failed.
EOF_USAGE
}

require_active_image() {
  local image="$1"
  os_status_or_die image "${image}" "${EXIT_IMAGE}" \
    "image '${image}' does not exist; keeping the build VM, which holds the only copy of the work"
  [[ "${OS_OUT}" == "active" ]] ||
    die "${EXIT_IMAGE}" "image '${image}' is '${OS_OUT}', not active; keeping the build VM until the snapshot is safe"
}

wait_gone() {
  local server="$1" timeout="$2" start="${SECONDS}"
  while os_cli server show "${server}" -f value -c status; do
    if ((SECONDS - start >= timeout)); then
      die "${EXIT_TIMEOUT}" "server '${server}' still ${OS_OUT} ${timeout} s after the delete request"
    fi
    log "waiting for server ${server} to go: ${OS_OUT} ($((SECONDS - start)) s of ${timeout} s)"
    sleep "${POLL_SECONDS}"
  done
  is_not_found "${OS_MSG}" || die "${EXIT_CLI}" "Error reading server '${server}': ${OS_MSG}"
}

main() {
  local server="" image="" timeout=600
  cli_options --server=server --image=image --timeout=timeout -- "$@"
  [[ -n "${server}" ]] || usage_error "--server is required (the build VM's ID)"
  [[ -n "${image}" ]] || usage_error "--image is required (the snapshot's ID)"
  require_server_id "${server}"
  require_image_id "${image}"
  require_seconds --timeout "${timeout}"
  os_cli_init

  if ! os_cli server show "${server}" -f value -c status; then
    is_not_found "${OS_MSG}" || die "${EXIT_CLI}" "Error reading server '${server}': ${OS_MSG}"
    log "server ${server} does not exist (already deleted)"
    return 0
  fi
  require_active_image "${image}"
  log "image ${image} is active; deleting server ${server}"
  if ! os_cli server delete "${server}"; then
    is_not_found "${OS_MSG}" || die "${EXIT_CLI}" "Error deleting server '${server}': ${OS_MSG}"
  fi
  wait_gone "${server}" "${timeout}"
  log "server ${server} deleted"
}

main "$@"
