#!/usr/bin/env bash
# Names and labels the worker image, then makes it with create-image.sh: run locally by the
# snapshot component (local.Command) after quiesce.sh has run on the build VM.
#
#   make-image.sh --server SERVER_ID --prefix PREFIX --tag TAG --content HASH
#                 --packages "pkg=version ..." [--property key=value]...
#                 [--timeout SECONDS] [--poll SECONDS]
#
# The image is named PREFIX-YYYY-MM-DD-TAG (the UTC date of this run) and labelled with
# canfar_batch_content=HASH, canfar_batch_commit=<this checkout's commit, 12 digits, or
# "unknown" outside git>, canfar_batch_packages and the given properties, in that order.
# Both the date and the commit are read here, when the image is made, so a later `pulumi up`
# that only reprints the image (the component's update) keeps what they were.
# Everything else, the output and the exit codes are create-image.sh's.
set -Eeuo pipefail

readonly PROG="${0##*/}"
HERE="$(dirname "${BASH_SOURCE[0]}")"
readonly HERE
# shellcheck source-path=SCRIPTDIR source=../lib/cli.sh
source "${HERE}/../lib/cli.sh"

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} --server SERVER_ID --prefix PREFIX --tag TAG --content HASH
                 --packages "pkg=version ..." [--property key=value]...
                 [--timeout SECONDS] [--poll SECONDS]

Runs create-image.sh --name PREFIX-<UTC date>-TAG with the properties canfar_batch_content,
canfar_batch_commit (this checkout's commit), canfar_batch_packages, then the given ones.
--timeout and --poll are passed on. Output and exit codes: create-image.sh --help.
EOF_USAGE
}

# The commit of the checkout this script is in, or "unknown" (a tarball, no git).
checkout_commit() {
  git -C "${HERE}" rev-parse --short=12 HEAD 2>/dev/null || echo unknown
}

main() {
  local server="" prefix="" tag="" content="" packages="" timeout="" poll=""
  local -a props=()
  cli_options --server=server --prefix=prefix --tag=tag --content=content --packages=packages \
    --property=props[] --timeout=timeout --poll=poll -- "$@"
  local option
  for option in server prefix tag content packages; do
    [[ -n "${!option}" ]] || usage_error "--${option} is required"
  done
  local name commit
  name="${prefix}-$(date -u +%Y-%m-%d)-${tag}"
  commit="$(checkout_commit)"
  local -a args=(--server "${server}" --name "${name}" --property "canfar_batch_content=${content}"
    --property "canfar_batch_commit=${commit}" --property "canfar_batch_packages=${packages}")
  local p
  for p in ${props[@]+"${props[@]}"}; do args+=(--property "${p}"); done
  [[ -z "${timeout}" ]] || args+=(--timeout "${timeout}")
  [[ -z "${poll}" ]] || args+=(--poll "${poll}")
  exec bash "${HERE}/create-image.sh" "${args[@]}"
}

main "$@"
