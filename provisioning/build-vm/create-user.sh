#!/usr/bin/env bash
# Creates (or brings back into shape) the CADC user's account on a build VM, as CANFAR's
# canfar_create_user does: a login user with bash, in the admin group (sudo or wheel),
# holding the image default user's SSH keys, with passwordless sudo.
# Unlike canfar_create_user it never prompts and can be re-run: a second run changes nothing.
#
# Usage (as root): create-user.sh USER
# Exit: 0 done, 1 failed, 2 bad usage (nothing touched).
set -Eeuo pipefail

readonly PROG="create-user"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
# Debian's useradd rejects capitals and dots; CADC names with them must be lower-cased.
readonly NAME_RE='^[a-z_][a-z0-9_-]{0,31}$'
readonly DEFAULT_USERS=(cloud-user debian ubuntu fedora centos rocky ec2-user)
readonly SUDOERS_DIR="/etc/sudoers.d"
readonly RESERVED=(root daemon bin sys sync games man lp mail news uucp proxy www-data backup
  list irc gnats nobody _apt sshd systemd-network systemd-resolve systemd-timesync messagebus)

usage() {
  cat >&2 <<USAGE
Usage: ${0##*/} USER
Create the login user USER (run as root): home /home/USER, shell /bin/bash, member of
sudo (or wheel), passwordless sudo, and the SSH keys of the image's default user
(first authorized_keys found under /home/{${DEFAULT_USERS[*]}}/.ssh).
Safe to re-run: an existing USER is brought to that state, nothing else changes.
USER must match ${NAME_RE} and must not be a system account.
USAGE
}

TMP_FILE=""
cleanup() { if [[ -n "${TMP_FILE}" ]]; then rm -f "${TMP_FILE}"; fi; }

# Exits 2 when USER cannot be ours to manage; touches nothing.
check_name() {
  local user="$1" reserved uid uid_min
  if [[ ! "${user}" =~ ${NAME_RE} ]]; then
    err "invalid user name '${user}': expected ${NAME_RE} (lower-case letters, digits, _ and -, at most 32, not starting with a digit or -)"
    exit 2
  fi
  for reserved in "${RESERVED[@]}"; do
    if [[ "${user}" == "${reserved}" ]]; then
      err "refusing user name '${user}': it is a system account"
      exit 2
    fi
  done
  uid_min="$(awk '$1 == "UID_MIN" { print $2 }' /etc/login.defs 2>/dev/null || true)"
  uid="$(id -u "${user}" 2>/dev/null || true)"
  if [[ -n "${uid}" && "${uid}" -lt "${uid_min:-1000}" ]]; then
    err "refusing user name '${user}': it is a system account (uid ${uid})"
    exit 2
  fi
}

admin_group() {
  local group
  for group in sudo wheel; do
    if getent group "${group}" >/dev/null; then
      echo "${group}"
      return 0
    fi
  done
  err "neither group 'sudo' nor 'wheel' exists: cannot give sudo rights"
  return 1
}

ensure_account() {
  local user="$1" group="$2"
  local home
  if ! id -u "${user}" >/dev/null 2>&1; then
    useradd -m -s /bin/bash -d "/home/${user}" "${user}"
    log "created user ${user}"
  else
    log "user ${user} exists; checking its state"
    if [[ "$(getent passwd "${user}" | cut -d: -f7)" != "/bin/bash" ]]; then
      usermod -s /bin/bash "${user}"
      log "set ${user}'s shell to /bin/bash"
    fi
    home="$(getent passwd "${user}" | cut -d: -f6)"
    if [[ ! -d "${home}" ]]; then
      # As useradd -m would have made it: from /etc/skel, owned by the user.
      install -d -m 755 -o "${user}" -g "$(id -gn "${user}")" "${home}"
      cp -a /etc/skel/. "${home}/"
      chown -R "${user}:$(id -gn "${user}")" "${home}"
      log "created ${user}'s missing home ${home}"
    fi
  fi
  # A string match, not a pipe into grep -q: with pipefail an early grep exit could read as "not a member".
  if [[ " $(id -nG "${user}") " != *" ${group} "* ]]; then
    usermod -aG "${group}" "${user}"
    log "added ${user} to group ${group}"
  fi
}

# The first default user's authorized_keys, other than USER's own.
source_keys() {
  local user="$1" candidate file
  for candidate in "${DEFAULT_USERS[@]}"; do
    file="/home/${candidate}/.ssh/authorized_keys"
    if [[ "${candidate}" != "${user}" && -s "${file}" ]]; then
      echo "${file}"
      return 0
    fi
  done
}

ensure_keys() {
  local user="$1" home src dest line
  home="$(getent passwd "${user}" | cut -d: -f6)"
  src="$(source_keys "${user}")"
  dest="${home}/.ssh/authorized_keys"
  install -d -m 700 -o "${user}" -g "$(id -gn "${user}")" "${home}/.ssh"
  if [[ -z "${src}" ]]; then
    if [[ -s "${dest}" ]]; then
      log "no default user's authorized_keys found; keeping ${dest}"
      return 0
    fi
    err "no authorized_keys under /home/{$(IFS=,; echo "${DEFAULT_USERS[*]}")}/.ssh: ${user} could not log in over SSH"
    return 1
  fi
  if [[ ! -e "${dest}" ]]; then
    install -m 600 -o "${user}" -g "$(id -gn "${user}")" "${src}" "${dest}"
    log "copied ${src} to ${dest}"
  else
    # Keys added to USER later stay: only the default user's missing keys are appended.
    while IFS= read -r line || [[ -n "${line}" ]]; do
      if [[ -n "${line}" ]] && ! grep -qxF -- "${line}" "${dest}"; then
        printf '%s\n' "${line}" >>"${dest}"
        log "added a key from ${src} to ${dest}"
      fi
    done <"${src}"
    chown "${user}:$(id -gn "${user}")" "${dest}"
    chmod 600 "${dest}"
  fi
}

# Checked by visudo before it is installed: a broken drop-in would lock everyone out of sudo.
ensure_sudoers() {
  local user="$1" target tmp content
  target="${SUDOERS_DIR}/90-canfar-${user}"
  content="# Written by create-user.sh: passwordless sudo, as canfar_create_user gives.
${user} ALL=(ALL) NOPASSWD:ALL"
  # Compared before any temp file exists, so a re-run does not even touch the directory.
  if [[ -f "${target}" && "$(cat "${target}")" == "${content}" ]]; then
    [[ "$(stat -c '%a' "${target}")" == "440" ]] || chmod 0440 "${target}"
    return 0
  fi
  # sudo ignores names with a dot, so the temp file is never read as a drop-in.
  tmp="$(mktemp "${SUDOERS_DIR}/.create-user.XXXXXX")"
  TMP_FILE="${tmp}"
  printf '%s\n' "${content}" >"${tmp}"
  chmod 0440 "${tmp}"
  chown root:root "${tmp}"
  if ! visudo -cqf "${tmp}" >/dev/null; then
    err "sudoers drop-in for ${user} failed visudo's check; not installed"
    return 1
  fi
  mv -f "${tmp}" "${target}"
  log "installed ${target}"
}

main() {
  cli_one_argument USER "$@"
  local user="$1" group
  trap cleanup EXIT
  check_name "${user}"
  if [[ "${EUID}" -ne 0 ]]; then
    err "must run as root (try: sudo ${0##*/} ${user})"
    exit 1
  fi
  group="$(admin_group)"
  ensure_account "${user}" "${group}"
  ensure_keys "${user}"
  ensure_sudoers "${user}"
  visudo -cq >/dev/null || { err "visudo -c reports the sudoers configuration broken"; exit 1; }
  log "user ${user} ready"
}

main "$@"
