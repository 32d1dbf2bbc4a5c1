#!/usr/bin/env bash
# Makes /mnt/scratch on the flavor's ephemeral disk, as CANFAR's canfar_setup_scratch does:
# mounts the ephemeral device on the mount point unless something is mounted there already
# (cloud-init usually mounts it), then creates scratch/ with mode 1777. Safe to re-run.
#
# Usage (as root): setup-scratch.sh [--device /dev/vdb] [--mountpoint /mnt] [--owner USER]
# Exit: 0 done, 1 failed, 2 bad usage (nothing touched), 3 no ephemeral disk.
set -Eeuo pipefail

readonly PROG="setup-scratch"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
readonly DEFAULT_DEVICE="/dev/vdb"
# Nova labels the ephemeral file system it makes; the label holds when the disk is not vdb.
readonly EPHEMERAL_LABEL_DEVICE="/dev/disk/by-label/ephemeral0"
readonly DEFAULT_MOUNTPOINT="/mnt"
readonly EXIT_NO_DISK=3

usage() {
  cat >&2 <<USAGE
Usage: ${0##*/} [--device DEV] [--mountpoint DIR] [--owner USER]
Mount the ephemeral disk DEV (default ${DEFAULT_DEVICE}, else ${EPHEMERAL_LABEL_DEVICE}) on DIR (default ${DEFAULT_MOUNTPOINT})
unless something is mounted there already, then create DIR/scratch with mode 1777,
owned by USER and USER's group when given (root otherwise). Run as root; safe to re-run.
USAGE
}

ensure_mounted() {
  local device="$1" mountpoint="$2" explicit="$3"
  if mountpoint -q "${mountpoint}"; then
    log "${mountpoint} is already a mount point; using it"
    return 0
  fi
  if [[ ! -b "${device}" && "${explicit}" == no && -b "${EPHEMERAL_LABEL_DEVICE}" ]]; then
    device="${EPHEMERAL_LABEL_DEVICE}"
  fi
  if [[ ! -b "${device}" ]]; then
    err "flavor has no ephemeral disk: ${device} not found; choose a c* flavor (e.g. c2-7.5gb-30)"
    exit "${EXIT_NO_DISK}"
  fi
  mkdir -p "${mountpoint}"
  mount "${device}" "${mountpoint}"
  log "mounted ${device} on ${mountpoint}"
}

ensure_scratch() {
  local dir="$1" owner="$2"
  if [[ ! -d "${dir}" ]]; then
    mkdir "${dir}"
    log "created ${dir}"
  fi
  if [[ "$(stat -c '%a' "${dir}")" != "1777" ]]; then
    chmod 1777 "${dir}"
  fi
  local owner_group
  owner_group="${owner}:$(id -gn "${owner}")"
  if [[ "$(stat -c '%U:%G' "${dir}")" != "${owner_group}" ]]; then
    chown "${owner_group}" "${dir}"
  fi
  log "${dir} ready (mode 1777, owner ${owner_group})"
}

main() {
  local device="" explicit=yes mountpoint="${DEFAULT_MOUNTPOINT}" owner="root"
  cli_options --device=device --mountpoint=mountpoint --owner=owner -- "$@"
  # Only a device nobody named falls back to the ephemeral disk's label.
  [[ -n "${device}" ]] || { device="${DEFAULT_DEVICE}"; explicit=no; }
  [[ "${device}" == /* ]] || usage_error "--device must be an absolute path such as /dev/vdb, got '${device}'"
  [[ "${mountpoint}" == /* ]] || usage_error "--mountpoint must be an absolute path such as /mnt, got '${mountpoint}'"
  id -u "${owner}" >/dev/null 2>&1 || usage_error "--owner: no such user '${owner}'"
  if [[ "${EUID}" -ne 0 ]]; then
    err "must run as root (try: sudo ${0##*/})"
    exit 1
  fi
  ensure_mounted "${device}" "${mountpoint}" "${explicit}"
  ensure_scratch "${mountpoint%/}/scratch" "${owner}"
}

main "$@"
