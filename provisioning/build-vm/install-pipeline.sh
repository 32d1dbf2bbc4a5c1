#!/usr/bin/env bash
#
# install-pipeline.sh SRC_DIR: installs the catalogue pipeline (do_catalogue.bash and its
# SExtractor configuration, from SRC_DIR, normally provisioning/worker) into
# /usr/local/share/canfar-batch/pipeline and links /usr/local/bin/do_catalogue.bash to it.
# Run as root on the build VM. Idempotent: a second run changes nothing and exits 0.
# DESTDIR, if set, is prepended to every path written (for packaging and tests).

set -Eeuo pipefail

readonly PROG="install-pipeline.sh"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
readonly SHARE_DIR="/usr/local/share/canfar-batch/pipeline"
readonly BIN_LINK="/usr/local/bin/do_catalogue.bash"
readonly EXECUTABLES=(do_catalogue.bash)
# The parts do_catalogue.bash sources from its own directory (domain/pipeline-parts.ts) are
# read, never run: data here.
readonly DATA_FILES=(catalogue.sex catalogue.param default.conv default.nnw merge-catalogues.awk
  catalogue-settings.bash catalogue-transfer.bash catalogue-headers.bash catalogue-extract.bash
  catalogue-check.bash catalogue-queue.bash)

changed=0

usage() {
  cat >&2 <<EOF
usage: ${PROG} SRC_DIR
       ${PROG} --help

Installs the catalogue pipeline from SRC_DIR (which holds ${EXECUTABLES[*]} ${DATA_FILES[*]})
into ${SHARE_DIR} and links ${BIN_LINK} to it. Run as root; re-running changes nothing.
Set DESTDIR to install under another root instead (no root needed then).

Exit codes: 0 installed or already up to date, 1 install failed, 2 bad arguments.
EOF
}

# install_file MODE SRC DEST: copies only when the content or mode differs, so that an
# unchanged file keeps its timestamp and a re-run reports nothing changed.
install_file() {
  local mode="$1" src="$2" dest="$3"
  if [[ -f "${dest}" ]] && cmp -s "${src}" "${dest}" && [[ "$(stat -c '%a' "${dest}")" == "${mode}" ]]; then
    return 0
  fi
  install -m "${mode}" -- "${src}" "${dest}"
  log "installed ${dest}"
  changed=$((changed + 1))
}

main() {
  cli_one_argument SRC_DIR "$@"
  local src="$1" f
  if [[ ! -d "${src}" ]]; then
    err "SRC_DIR '${src}' is not a directory"
    exit 2
  fi
  for f in "${EXECUTABLES[@]}" "${DATA_FILES[@]}"; do
    if [[ ! -f "${src}/${f}" ]]; then
      err "SRC_DIR '${src}' has no ${f}: expected the provisioning/worker directory"
      exit 2
    fi
  done
  local root="${DESTDIR:-}"
  if [[ -z "${root}" && "${EUID}" -ne 0 ]]; then
    err "must run as root (or with DESTDIR set)"
    exit 2
  fi

  install -d -m 755 -- "${root}${SHARE_DIR}" "$(dirname "${root}${BIN_LINK}")"
  for f in "${EXECUTABLES[@]}"; do
    install_file 755 "${src}/${f}" "${root}${SHARE_DIR}/${f}"
  done
  for f in "${DATA_FILES[@]}"; do
    install_file 644 "${src}/${f}" "${root}${SHARE_DIR}/${f}"
  done
  if [[ "$(readlink "${root}${BIN_LINK}" 2>/dev/null || true)" != "${SHARE_DIR}/do_catalogue.bash" ]]; then
    ln -sfn -- "${SHARE_DIR}/do_catalogue.bash" "${root}${BIN_LINK}"
    log "linked ${root}${BIN_LINK} -> ${SHARE_DIR}/do_catalogue.bash"
    changed=$((changed + 1))
  fi
  if ((changed == 0)); then
    log "pipeline already up to date in ${root}${SHARE_DIR}"
  else
    log "${changed} change(s) in ${root}${SHARE_DIR}"
  fi
}

main "$@"
