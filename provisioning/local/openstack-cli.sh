#!/usr/bin/env bash
# Shared helpers for the snapshot scripts that run locally against OpenStack
# (create-image.sh, delete-image.sh, delete-server.sh, start-server.sh). Sourced, never run:
#   source "$(dirname "${BASH_SOURCE[0]}")/openstack-cli.sh"
# The sourcing script sets PROG and calls os_cli_init once before the first os_cli.

# err, log, die, usage_error, EXIT_USAGE and the option reader come from the shared library.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"

# Bound on a single CLI call, so a hung API call cannot hang `pulumi up`.
readonly CALL_TIMEOUT="${CANFAR_OPENSTACK_CALL_TIMEOUT:-120}"

# Option checks the scripts share; each exits EXIT_USAGE naming the option and its value.
require_seconds() {
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "${EXIT_USAGE}" "$1 '$2': expected a positive number of seconds"
}
require_server_id() {
  [[ "$1" =~ ^[A-Za-z0-9._-]+$ ]] || die "${EXIT_USAGE}" "--server '$1': expected a server ID"
}
require_image_id() {
  [[ "$1" =~ ^[A-Za-z0-9-]+$ ]] || die "${EXIT_USAGE}" "--image '$1': expected an image ID"
}

# Runs the openstack CLI, bounded when `timeout` exists (absent on stock macOS). Its stdout
# lands in OS_OUT; OS_MSG holds what to quote on failure (stderr, else stdout). Globals
# rather than $(...) so the caller's error message can still see them.
OS_OUT=""
OS_MSG=""
OS_ERR_FILE=""
os_cli_init() {
  command -v openstack >/dev/null ||
    die 9 "the openstack CLI is not on PATH (install python3-openstackclient)"
  OS_ERR_FILE="$(mktemp)"
  trap 'rm -f -- "${OS_ERR_FILE}"' EXIT
}

os_cli() {
  local rc=0
  local -a bound=()
  if command -v timeout >/dev/null; then bound=(timeout "${CALL_TIMEOUT}"); fi
  # ${a[@]+"${a[@]}"}: an empty array under `set -u` in macOS's bash 3.2.
  OS_OUT="$(${bound[@]+"${bound[@]}"} openstack "$@" 2>"${OS_ERR_FILE}")" || rc=$?
  OS_MSG="$(tr '\n' ' ' <"${OS_ERR_FILE}")"
  OS_MSG="${OS_MSG% }"
  [[ -n "${OS_MSG// /}" ]] || OS_MSG="${OS_OUT}"
  ((rc != 124)) || OS_MSG="no answer within ${CALL_TIMEOUT} s"
  return "${rc}"
}

# os_status_or_die server|image ID GONE_CODE GONE_MESSAGE: sets OS_OUT to the status of the
# server or image ID. One that does not exist exits GONE_CODE saying GONE_MESSAGE (what its
# absence means to the caller); any other failure exits 9 quoting the cloud.
os_status_or_die() {
  local kind="$1" id="$2" gone_code="$3" gone_message="$4"
  if ! os_cli "${kind}" show "${id}" -f value -c status; then
    is_not_found "${OS_MSG}" && die "${gone_code}" "${gone_message}"
    die 9 "Error reading ${kind} '${id}': ${OS_MSG}"
  fi
}

# The wordings of python-openstackclient / openstacksdk for a missing server or image.
is_not_found() {
  grep -Eqi "No (server|image) with a name or ID of|No (Image|Server) found for|Could not find resource|\(HTTP 404\)" <<<"$1"
}
