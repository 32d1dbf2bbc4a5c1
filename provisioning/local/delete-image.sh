#!/usr/bin/env bash
# Deletes a worker image: run locally by the snapshot component's delete step
# (local.Command) on `pulumi destroy` when the stack config says images are not kept.
#
#   delete-image.sh --image IMAGE_ID
#
# An image that is already gone counts as deleted, so destroy can be re-run.
# Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
# Exit codes: 0 deleted or absent, 2 bad arguments, 9 the cloud refused or failed.
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly EXIT_CLI=9
# shellcheck source-path=SCRIPTDIR source=openstack-cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/openstack-cli.sh"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} --image IMAGE_ID

Deletes the image; an image that does not exist counts as deleted.
Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
Exit codes: 0 deleted or absent, 2 usage, 9 the cloud refused or failed.
EOF_USAGE
}

main() {
  local image=""
  cli_options --image=image -- "$@"
  [[ -n "${image}" ]] || usage_error "--image is required (the image ID)"
  require_image_id "${image}"
  os_cli_init

  log "deleting image ${image}"
  if os_cli image delete "${image}"; then
    log "image ${image} deleted"
    return 0
  fi
  local delete_msg="${OS_MSG}"
  # Ask again rather than trust the delete's wording: only a show that says "not found"
  # proves the image is gone.
  if ! os_cli image show "${image}" -f value -c id && is_not_found "${OS_MSG}"; then
    log "image ${image} does not exist (already deleted)"
    return 0
  fi
  die "${EXIT_CLI}" "Error deleting image '${image}': ${delete_msg}"
}

main "$@"
