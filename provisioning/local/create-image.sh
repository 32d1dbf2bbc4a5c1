#!/usr/bin/env bash
# Snapshots the build VM into the worker image CANFAR batch boots: run locally by the
# snapshot component (local.Command) after quiesce.sh has run on the VM.
#
#   create-image.sh --server SERVER_ID --name IMAGE_NAME [--property key=value]...
#                   [--timeout SECONDS] [--poll SECONDS]
#
# OpenStack auth comes from the environment (OS_CLOUD with clouds.yaml, or OS_* variables),
# never from arguments. Progress goes to stderr; on success stdout holds exactly one line:
#   {"id": "<image id>", "name": "<image name>", "status": "active"}
#
# Steps: look for an image with that exact name first (CANFAR resolves images by name and
# refuses duplicates), then stop the server and wait for SHUTOFF (so the guest has flushed
# its buffers and the disk is consistent), create the image, poll until `active`.
# Re-running after a partial failure is safe: an existing image with the same name and the
# same `canfar_batch_content` property is reused (waited for if still saving).
#
# Exit codes:
#   0 success            2 bad arguments         3 server could not be stopped
#   4 name already taken by another image        5 image creation refused by the cloud
#   6 quota exceeded     7 image ended killed/deleted/deactivated/error
#   8 timeout waiting for the image              9 openstack CLI missing or failing
set -Eeuo pipefail

readonly PROG="${0##*/}"
readonly CONTENT_KEY="canfar_batch_content"
readonly EXIT_STOP=3 EXIT_DUPLICATE=4 EXIT_CREATE=5 EXIT_QUOTA=6
readonly EXIT_FAILED=7 EXIT_TIMEOUT=8 EXIT_CLI=9
# Consecutive failed status polls tolerated (a network blip must not lose a 20-minute save).
readonly POLL_ERRORS_TOLERATED=3
# shellcheck source-path=SCRIPTDIR source=openstack-cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/openstack-cli.sh"

usage() {
  cat >&2 <<EOF
usage: ${PROG} --server SERVER_ID --name IMAGE_NAME [--property key=value]...
                 [--timeout SECONDS] [--poll SECONDS]

Stops the server, snapshots it into an image named IMAGE_NAME and waits until the image
is active. Prints {"id": ..., "name": ..., "status": "active"} on stdout.

  --server SERVER_ID    the build VM (ID or unique name)
  --name IMAGE_NAME     image name: letters, digits, '.', '_', '-' (must be unique)
  --property key=value  image property, repeatable; ${CONTENT_KEY}=<hash> makes
                        re-runs reuse an identical image instead of failing
  --timeout SECONDS     give up waiting for SHUTOFF / active after this (default 1800)
  --poll SECONDS        seconds between status checks (default 10)

Auth: OS_CLOUD (clouds.yaml) or OS_* variables in the environment.
Exit codes: 2 usage, 3 stop failed, 4 name taken, 5 creation refused, 6 quota,
            7 image killed/deleted/error, 8 timeout, 9 openstack CLI failing.
EOF
}

# Prints the value of the content property of an image, empty if absent. The JSON is read
# with python3, which is always there because the openstack CLI is written in it.
image_content_hash() {
  local id="$1"
  os_cli image show "${id}" -f json || die "${EXIT_CLI}" "Error reading image '${id}': ${OS_MSG}"
  python3 -c '
import json, sys
image = json.loads(sys.stdin.read())
props = image.get("properties") or {}
if isinstance(props, str):
    props = {}
print(props.get(sys.argv[1], image.get(sys.argv[1], "")))
' "${CONTENT_KEY}" <<<"${OS_OUT}"
}

# Sets EXISTING_ID/EXISTING_STATUS to the image already carrying NAME, or empty.
EXISTING_ID=""
EXISTING_STATUS=""
find_existing_image() {
  local name="$1" lines count
  os_cli image list --name "${name}" -f value -c ID -c Status ||
    die "${EXIT_CLI}" "Error listing images named '${name}': ${OS_MSG}"
  lines="$(grep -v '^[[:space:]]*$' <<<"${OS_OUT}" || true)"
  count="$(grep -c . <<<"${lines}" || true)"
  if ((count > 1)); then
    die "${EXIT_DUPLICATE}" "${count} images are already named '${name}' (IDs: $(cut -d' ' -f1 <<<"${lines}" | paste -sd' ' -)); CANFAR needs unique names: delete the extras or choose another name"
  fi
  if ((count == 1)); then
    EXISTING_ID="$(cut -d' ' -f1 <<<"${lines}")"
    EXISTING_STATUS="$(cut -d' ' -f2 <<<"${lines}")"
  fi
}

stop_server() {
  local server="$1" timeout="$2" poll="$3" status start
  os_cli server show "${server}" -f value -c status || die "${EXIT_STOP}" "Error reading server '${server}': ${OS_MSG}"
  status="${OS_OUT}"
  case "${status}" in
    SHUTOFF) log "server ${server} is already SHUTOFF"; return 0 ;;
    ACTIVE) ;;
    *) die "${EXIT_STOP}" "server '${server}' is ${status}, expected ACTIVE or SHUTOFF before a snapshot" ;;
  esac
  log "stopping server ${server}"
  os_cli server stop "${server}" || die "${EXIT_STOP}" "Error stopping server '${server}': ${OS_MSG}"
  start="${SECONDS}"
  while :; do
    os_cli server show "${server}" -f value -c status || die "${EXIT_STOP}" "Error reading server '${server}': ${OS_MSG}"
    status="${OS_OUT}"
    [[ "${status}" == "SHUTOFF" ]] && break
    [[ "${status}" == "ERROR" ]] && die "${EXIT_STOP}" "server '${server}' went to ERROR while stopping"
    if ((SECONDS - start >= timeout)); then
      die "${EXIT_STOP}" "server '${server}' still ${status} after ${timeout} s; it must be SHUTOFF before the snapshot"
    fi
    log "waiting for server ${server}: ${status} ($((SECONDS - start)) s of ${timeout} s)"
    sleep "${poll}"
  done
  log "server ${server} is SHUTOFF"
}

# Nova's createImage takes the metadata with the request and Glance stores it as image
# properties, so passing --property here (rather than `openstack image set` afterwards)
# labels the image atomically: no window in which an image with our name exists without
# its content hash, which a re-run would then wrongly refuse as someone else's.
CREATED_ID=""
create_image() {
  local server="$1" name="$2"
  shift 2
  local -a props=()
  local p
  for p in "$@"; do props+=(--property "${p}"); done
  log "creating image ${name} from server ${server}"
  if ! os_cli server image create --name "${name}" ${props[@]+"${props[@]}"} "${server}" -f value -c id; then
    # Nova's own words, Glance's (413 "over a limit"), and Nova Zed's untranslated 500
    # carrying glanceclient's HTTPOverLimit, as a real Zed cloud answers a snapshot over quota.
    if grep -qi "quota exceeded\|over limit\|over a limit\|OverQuota\|OverLimit" <<<"${OS_MSG}"; then
      die "${EXIT_QUOTA}" "Error creating image '${name}': the cloud says: ${OS_MSG}; delete unused images or snapshots (openstack image list) or ask for a larger quota"
    fi
    die "${EXIT_CREATE}" "Error creating image '${name}' from server '${server}': ${OS_MSG}"
  fi
  CREATED_ID="$(tail -n 1 <<<"${OS_OUT}")"
}

wait_active() {
  local id="$1" name="$2" timeout="$3" poll="$4" status="" start errors=0
  start="${SECONDS}"
  while :; do
    if os_cli image show "${id}" -f value -c status; then
      errors=0
      status="${OS_OUT}"
    elif is_not_found "${OS_MSG}"; then
      die "${EXIT_FAILED}" "image ${name} (${id}) disappeared while saving: ${OS_MSG}"
    else
      errors=$((errors + 1))
      ((errors > POLL_ERRORS_TOLERATED)) &&
        die "${EXIT_CLI}" "Error reading image '${name}' (${id}) ${errors} times in a row: ${OS_MSG}"
    fi
    case "${status}" in
      active) log "image ${name} (${id}) is active after $((SECONDS - start)) s"; return 0 ;;
      killed | deleted | pending_delete | deactivated | error)
        die "${EXIT_FAILED}" "image ${name} (${id}) ended '${status}': the snapshot failed; delete it (openstack image delete ${id}) and run again" ;;
    esac
    if ((SECONDS - start >= timeout)); then
      die "${EXIT_TIMEOUT}" "image ${name} still '${status:-unknown}' after ${timeout} s; raise canfar:snapshotTimeoutSeconds or check the cloud"
    fi
    log "waiting for image ${name}: ${status:-unknown} ($((SECONDS - start)) s of ${timeout} s)"
    sleep "${poll}"
  done
}

main() {
  local server="" name="" timeout=1800 poll=10 content=""
  local -a props=()
  cli_options --server=server --name=name --property=props[] --timeout=timeout --poll=poll -- "$@"
  [[ -n "${server}" ]] || usage_error "--server is required (the build VM's ID)"
  [[ -n "${name}" ]] || usage_error "--name is required (the image name CANFAR will boot)"
  # domain/image-name.ts: what submit.sh and the submit file's +VMImage accept.
  [[ "${name}" =~ ^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$ ]] ||
    die "${EXIT_USAGE}" "--name '${name}': expected up to 255 letters, digits, '.', '_' or '-', starting with a letter or digit"
  [[ "${server}" =~ ^[A-Za-z0-9._-]+$ ]] ||
    die "${EXIT_USAGE}" "--server '${server}': expected a server ID or name (letters, digits, '.', '_', '-')"
  require_seconds --timeout "${timeout}"
  require_seconds --poll "${poll}"
  local p key value
  for p in ${props[@]+"${props[@]}"}; do
    [[ "${p}" =~ ^[A-Za-z0-9_:.-]+=.*$ ]] ||
      die "${EXIT_USAGE}" "--property '${p}': expected key=value with a key of letters, digits, '_', ':', '.', '-'"
    key="${p%%=*}"
    value="${p#*=}"
    # Nova's createImage schema: metadata keys and values of at most 255 characters.
    ((${#key} <= 255 && ${#value} <= 255)) ||
      die "${EXIT_USAGE}" "--property ${key:0:60}: the value is ${#value} characters; OpenStack image properties hold at most 255"
    [[ "${key}" == "${CONTENT_KEY}" ]] && content="${value}"
  done
  os_cli_init

  local id=""
  find_existing_image "${name}"
  if [[ -n "${EXISTING_ID}" ]]; then
    local existing_hash
    existing_hash="$(image_content_hash "${EXISTING_ID}")"
    if [[ -z "${content}" || "${existing_hash}" != "${content}" ]]; then
      die "${EXIT_DUPLICATE}" "an image named '${name}' already exists (${EXISTING_ID}, ${EXISTING_STATUS}, ${CONTENT_KEY}='${existing_hash}') and was not made from this content ('${content}'); CANFAR resolves images by name: choose another name or delete that image"
    fi
    case "${EXISTING_STATUS}" in
      active | queued | saving | importing | uploading)
        log "reusing image ${name} (${EXISTING_ID}, ${EXISTING_STATUS}) made from the same content"
        id="${EXISTING_ID}"
        ;;
      *)
        die "${EXIT_FAILED}" "image ${name} (${EXISTING_ID}) from an earlier run is '${EXISTING_STATUS}'; delete it (openstack image delete ${EXISTING_ID}) and run again" ;;
    esac
  else
    stop_server "${server}" "${timeout}" "${poll}"
    create_image "${server}" "${name}" ${props[@]+"${props[@]}"}
    id="${CREATED_ID}"
    [[ "${id}" =~ ^[A-Za-z0-9-]+$ ]] ||
      die "${EXIT_CREATE}" "the cloud answered the image creation with '${id}', not an image ID"
    log "image ${name} is ${id}"
  fi
  wait_active "${id}" "${name}" "${timeout}" "${poll}"
  printf '{"id": "%s", "name": "%s", "status": "active"}\n' "${id}" "${name}"
}

main "$@"
