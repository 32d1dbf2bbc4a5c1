#!/usr/bin/env bash
# Generates the build VM's SSH host key on the admin's machine, once per stack: run locally
# by the program (local.Command). The program hands the key to cloud-init (`ssh_keys`) and
# pins its public half in every connection to the VM, so the first connection already
# verifies the host it talks to.
#
#   generate-host-key.sh
#
# Prints the private key (OpenSSH format), then the public key line. Nothing stays on disk.
set -Eeuo pipefail

readonly PROG="${0##*/}"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG}

Prints a new ed25519 SSH host key: the private key, then the public key line.
EOF_USAGE
}

main() {
  case "${1:-}" in
    "") ;;
    -h | --help) usage; exit 0 ;;
    *) printf '%s: error: unknown argument %s\n' "${PROG}" "'$1'" >&2; usage; exit 2 ;;
  esac
  command -v ssh-keygen >/dev/null || { printf '%s: error: ssh-keygen is not installed (openssh-client)\n' "${PROG}" >&2; exit 1; }
  local dir
  dir="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: dir is local and gone by the time EXIT fires
  trap "rm -rf -- '${dir}'" EXIT
  umask 077
  ssh-keygen -q -t ed25519 -N '' -C "canfar-batch build VM" -f "${dir}/key"
  cat -- "${dir}/key" "${dir}/key.pub"
}

main "$@"
