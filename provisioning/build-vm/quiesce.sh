#!/usr/bin/env bash
# Prepares the build VM to become the worker image: run as root on the build VM over SSH
# (remote.Command, `sudo bash quiesce.sh`), right before create-image.sh stops the server
# and snapshots it.
#
#   quiesce.sh
#
# What it does, and why:
# - `cloud-init clean --logs`: every worker then boots as a new instance and re-runs the
#   per-instance modules (hostname, mounts of the ephemeral disk, the ssh module).
# - CADC credentials removed from every home: ~/.netrc (the password in plain text) and
#   ~/.ssl/cadcproxy.pem. Worker images are shared between projects; on CANFAR a new proxy
#   certificate is made at submission and injected into the workers. The staged copies of
#   the provisioning scripts go too. The build VM gets both back when provisioning runs
#   again (after a start, which is the only way to reach it once this ran).
# - SSH host keys removed: the build VM's key is the one the program pinned, and a shared
#   worker image must not carry it. Each worker's cloud-init makes its own at first boot;
#   the build VM gets its own back from its user-data (`ssh_keys`) when it is started again
#   (a start after this is a first boot). Until then no new SSH connection to it succeeds:
#   the snapshot, which comes next, needs none.
# - /etc/machine-id emptied: systemd makes a new one at the next boot, so workers do not
#   share an identity (journald, DHCP client ids). Empty rather than missing: systemd
#   treats an empty file as "first boot" in old and new versions alike.
# - root's and every user's shell history removed; apt's lists and package cache removed
#   (re-downloadable; they only make the image bigger and go stale).
# - `sync`, so all of this is on disk before the server is stopped.
# It never touches ~/.ssh (the CADC user's authorized_keys stays) nor installed software.
# Idempotent: a second run finds nothing to do and succeeds.
set -Eeuo pipefail

readonly PROG="${0##*/}"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG}

Cleans cloud-init state, the machine id, shell histories, apt caches, CADC credentials,
staged copies and the SSH host keys on the build VM so its snapshot boots as a fresh
instance and carries no secret. Run as root, right before the
snapshot.
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }
log() { printf '%s: %s\n' "${PROG}" "$*" >&2; }

# Without cloud-init the workers would keep the build VM's instance state: an error.
clean_cloud_init() {
  command -v cloud-init >/dev/null || { err "cloud-init is not installed"; return 1; }
  cloud-init clean --logs
  log "cloud-init state and logs cleaned"
}

reset_machine_id() {
  [[ ! -f /etc/machine-id ]] || : >/etc/machine-id
  # dbus keeps its own copy on some systems; as a symlink it already follows /etc.
  if [[ -f /var/lib/dbus/machine-id && ! -L /var/lib/dbus/machine-id ]]; then
    rm -f -- /var/lib/dbus/machine-id
  fi
  log "machine id reset"
}

clear_histories() {
  local home
  rm -f -- /root/.bash_history /root/.lesshst /root/.viminfo
  for home in /home/*/; do
    [[ -d "${home}" ]] || continue
    rm -f -- "${home}.bash_history" "${home}.lesshst" "${home}.viminfo"
  done
  log "shell histories removed"
}

remove_credentials() {
  local home count=0
  for home in /root/ /home/*/; do
    [[ -d "${home}" ]] || continue
    if [[ -e "${home}.netrc" || -e "${home}.ssl/cadcproxy.pem" || -e "${home}.canfar-batch" ]]; then
      count=$((count + 1))
    fi
    rm -f -- "${home}.netrc" "${home}.ssl/cadcproxy.pem"
    # This script is one of the staged copies: bash keeps reading it from its open file.
    rm -rf -- "${home}.canfar-batch"
  done
  log "CADC credentials (~/.netrc, proxy certificate) and staged copies removed from ${count} home(s)"
}

remove_host_keys() {
  rm -f -- /etc/ssh/ssh_host_*key /etc/ssh/ssh_host_*key.pub
  log "SSH host keys removed"
}

clear_apt() {
  [[ -d /var/lib/apt/lists ]] || return 0
  find /var/lib/apt/lists -mindepth 1 -maxdepth 1 ! -name lock ! -name partial -delete
  find /var/cache/apt -maxdepth 2 -type f \( -name '*.deb' -o -name '*.bin' \) -delete
  log "apt lists and package cache removed"
}

main() {
  case "${1:-}" in
    "") ;;
    -h | --help) usage; exit 0 ;;
    *) err "unknown argument '$1'"; usage; exit 2 ;;
  esac
  [[ "$(id -u)" == "0" ]] || { err "must run as root (sudo ${PROG})"; exit 2; }
  clean_cloud_init
  reset_machine_id
  clear_histories
  clear_apt
  remove_credentials
  # Last: the connection that runs this script is already open.
  remove_host_keys
  sync
  log "done: the VM is ready to be stopped and snapshotted"
}

main "$@"
