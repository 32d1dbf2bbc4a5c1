# shellcheck shell=bash
# Sourced by the cadcget/vcp/vmv/vrm/vls/vmkdir doubles: their settings, and the certificate
# a real client would present.
#
# Over SSH the caller's environment does not reach the batch host: when the environment gives
# no DOUBLES_LOG, the settings (VOS_DOUBLE_ROOT, DOUBLES_LOG, CADC_DOUBLE_REQUIRE_CERT, the
# *_DOUBLE_MODE knobs) come from $CADC_DOUBLE_CONF or /etc/cadc-double.conf, KEY=VALUE lines.
if [[ -z "${DOUBLES_LOG:-}" && -f "${CADC_DOUBLE_CONF:-/etc/cadc-double.conf}" ]]; then
  set -a
  # shellcheck disable=SC1090
  source "${CADC_DOUBLE_CONF:-/etc/cadc-double.conf}"
  set +a
fi
#
# cert_check TOOL [FILE]: FILE empty means the client's default, ~/.ssl/cadcproxy.pem.
# Records "TOOL SHA256" (or "TOOL none") in $DOUBLES_LOG.certs, so a test can tell which
# certificate each call used; with CADC_DOUBLE_REQUIRE_CERT=1 a missing or expired one is
# refused as the CADC services refuse it (401), and the caller fails.
cert_check() {
  local tool="$1" file="${2:-${HOME:-/nonexistent}/.ssl/cadcproxy.pem}"
  if [[ -f "${file}" ]] && openssl x509 -checkend 0 -noout -in "${file}" >/dev/null 2>&1; then
    echo "${tool} $(sha256sum <"${file}" | cut -d' ' -f1)" >>"${DOUBLES_LOG:?}.certs"
    return 0
  fi
  echo "${tool} none" >>"${DOUBLES_LOG:?}.certs"
  [[ "${CADC_DOUBLE_REQUIRE_CERT:-0}" == 1 ]] || return 0
  echo "ERROR:: 401 Unauthorized: no valid certificate (${file})" >&2
  return 1
}
