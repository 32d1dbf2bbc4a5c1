#!/usr/bin/env bash
# Prepares the build VM to become the worker image: run as root on the build VM over SSH
# (remote.Command), right before create-image.sh stops the server and snapshots it.
#
#   sudo quiesce.sh [--root DIR]
#
# What it does, and why:
# - `cloud-init clean --logs`: every worker then boots as a new instance and re-runs the
#   per-instance modules (hostname, mounts of the ephemeral disk, and the ssh module).
# - SSH host keys are left in place on purpose: cloud-init's ssh module runs once per
#   instance and, with its default `ssh_deletekeys: true`, deletes /etc/ssh/ssh_host_*key*
#   and generates new ones on the worker's first boot. Removing them here would only leave
#   the build VM without host keys if it is restarted before the snapshot.
# - /etc/machine-id emptied: systemd generates a new one at the next boot, so workers do not
#   share an identity (journald, DHCP client ids). An empty file, not a missing one: both
#   old and new systemd treat an empty file as "first boot".
# - root's and every user's shell history removed; apt's package cache and lists removed
#   (they are re-downloadable and only make the image bigger and stale).
# - `sync` so everything above is on disk before the server is stopped.
# It never touches users' ~/.ssh (the CADC user's authorized_keys stays) nor installed
# software. Idempotent: running it twice leaves the same state.
#
# --root DIR applies the file changes to a system mounted at DIR instead of / (used by the
# tests on a throwaway Debian root); cloud-init is then run inside DIR with chroot.
set -Eeuo pipefail

readonly PROG="${0##*/}"

usage() {
  cat >&2 <<EOF
usage: ${PROG} [--root DIR]

Cleans cloud-init state, machine id, shell histories and apt caches on the build VM so
the snapshot boots as a fresh instance. Run as root, right before the snapshot.

  --root DIR   act on the system mounted at DIR (default: /)
  -h, --help   this help
EOF
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

# Runs cloud-init clean in the target system; a missing cloud-init is an error because
# without it workers would keep the build VM's instance state.
clean_cloud_init() {
  local root="$1"
  if [[ "${root}" == "/" ]]; then
    command -v cloud-init >/dev/null || { err "cloud-init is not installed"; return 1; }
    cloud-init clean --logs
  else
    [[ -x "${root}/usr/bin/cloud-init" ]] || { err "cloud-init is not installed in ${root}"; return 1; }
    chroot "${root}" cloud-init clean --logs
  fi
  log "cloud-init state and logs cleaned"
}

reset_machine_id() {
  local root="$1"
  if [[ -f "${root}/etc/machine-id" ]]; then
    : >"${root}/etc/machine-id"
  fi
  # dbus keeps its own copy on some systems; as a symlink it already follows /etc.
  if [[ -f "${root}/var/lib/dbus/machine-id" && ! -L "${root}/var/lib/dbus/machine-id" ]]; then
    rm -f -- "${root}/var/lib/dbus/machine-id"
  fi
  log "machine id reset"
}

clear_histories() {
  local root="$1" home
  rm -f -- "${root}/root/.bash_history" "${root}/root/.lesshst" "${root}/root/.viminfo"
  for home in "${root}"/home/*/; do
    [[ -d "${home}" ]] || continue
    rm -f -- "${home}.bash_history" "${home}.lesshst" "${home}.viminfo"
  done
  log "shell histories removed"
}

clear_apt() {
  local root="$1"
  [[ -d "${root}/var/lib/apt/lists" ]] || return 0
  find "${root}/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name lock ! -name partial -delete
  find "${root}/var/cache/apt" -maxdepth 2 -type f \( -name '*.deb' -o -name '*.bin' \) -delete
  log "apt lists and package cache removed"
}

main() {
  local root="/"
  while (($# > 0)); do
    case "$1" in
      --root)
        [[ $# -ge 2 && -n "$2" ]] || { err "--root needs a directory"; usage; exit 2; }
        root="$2"
        shift 2
        ;;
      -h | --help) usage; exit 0 ;;
      *) err "unknown argument '$1'"; usage; exit 2 ;;
    esac
  done
  [[ -d "${root}" ]] || { err "--root '${root}' is not a directory"; exit 2; }
  [[ "$(id -u)" == "0" ]] || { err "must run as root (sudo ${PROG})"; exit 2; }
  root="${root%/}"
  [[ -n "${root}" ]] || root="/"

  clean_cloud_init "${root}"
  local prefix="${root}"
  [[ "${root}" == "/" ]] && prefix=""
  reset_machine_id "${prefix}"
  clear_histories "${prefix}"
  clear_apt "${prefix}"
  sync
  log "done: the VM is ready to be stopped and snapshotted"
}

main "$@"
