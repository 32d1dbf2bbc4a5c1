#!/usr/bin/env bash
#
# smoke-test.sh SAMPLE_DIR: runs the installed catalogue pipeline on the small sample
# exposure in SAMPLE_DIR (one ID.fits.fz, e.g. provisioning/worker/smoke) with a temporary
# local destination, and fails unless a catalogue with sources appears. Run as the CADC user
# on the build VM after install-pipeline.sh. SMOKE_PIPELINE overrides the pipeline run
# (default /usr/local/bin/do_catalogue.bash).

set -Eeuo pipefail

readonly PROG="smoke-test.sh"
# The shared command-line plumbing: staged beside this script, in ../lib in the repository.
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli.sh" 2>/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/../lib/cli.sh"
readonly DEFAULT_PIPELINE="/usr/local/bin/do_catalogue.bash"

dest=""

usage() {
  cat >&2 <<EOF
usage: ${PROG} SAMPLE_DIR
       ${PROG} --help

Runs ${DEFAULT_PIPELINE} (or \$SMOKE_PIPELINE) on the one ID.fits.fz in SAMPLE_DIR
with CATALOGUE_SOURCE=SAMPLE_DIR and a temporary local CATALOGUE_DEST, and checks that
ID.cat arrived holding at least one source.

Exit codes: 0 passed, 1 failed (the pipeline's own exit code is printed), 2 bad arguments.
EOF
}

cleanup() {
  if [[ -n "${dest}" ]]; then
    rm -rf -- "${dest}"
  fi
}

main() {
  cli_one_argument SAMPLE_DIR "$@"
  local sample_dir="$1"
  if [[ ! -d "${sample_dir}" ]]; then
    err "SAMPLE_DIR '${sample_dir}' is not a directory"
    exit 2
  fi
  local -a samples=()
  local f
  for f in "${sample_dir}"/*.fits.fz; do
    [[ -f "${f}" ]] && samples+=("${f}")
  done
  if [[ ${#samples[@]} -ne 1 ]]; then
    err "SAMPLE_DIR '${sample_dir}' must hold exactly one ID.fits.fz, found ${#samples[@]}"
    exit 2
  fi
  local id
  id="$(basename "${samples[0]}" .fits.fz)"
  local pipeline="${SMOKE_PIPELINE:-${DEFAULT_PIPELINE}}"
  if [[ ! -x "${pipeline}" ]]; then
    err "FAILED: pipeline ${pipeline} is not installed (run install-pipeline.sh first)"
    exit 1
  fi

  trap cleanup EXIT
  dest="$(mktemp -d "${TMPDIR:-/tmp}/smoke-test.XXXXXX")"
  log "running ${pipeline} ${id} on ${sample_dir}"
  local status=0
  CATALOGUE_SOURCE="${sample_dir}" CATALOGUE_DEST="${dest}" CATALOGUE_RETRIES=1 \
    "${pipeline}" "${id}" || status=$?
  if ((status != 0)); then
    err "FAILED: ${pipeline} ${id} exited ${status} (see its --help for the meaning)"
    exit 1
  fi
  local catalogue="${dest}/${id}.cat" sources
  if [[ ! -s "${catalogue}" ]]; then
    err "FAILED: the pipeline exited 0 but ${catalogue} is missing or empty"
    exit 1
  fi
  sources="$(grep -vc '^#' "${catalogue}" || true)"
  if ((sources == 0)); then
    err "FAILED: ${catalogue} holds no sources"
    exit 1
  fi
  log "passed: ${sources} sources in ${id}.cat"
}

main "$@"
