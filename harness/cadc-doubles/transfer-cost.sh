# shellcheck shell=bash
# Sourced by the cadcget and vcp doubles: a transfer costs time as the archive's does, in
# proportion to its size. CADC_DOUBLE_BANDWIDTH (bytes/s; unset or 0: instant) and
# CADC_DOUBLE_LATENCY (seconds per call, decimals allowed; default 0), for benchmarks and
# tests that need a transfer in flight.
#
# transfer_cost BYTES: sleeps latency + BYTES / bandwidth.
transfer_cost() {
  local bytes="$1" bandwidth="${CADC_DOUBLE_BANDWIDTH:-0}" latency="${CADC_DOUBLE_LATENCY:-0}" seconds
  [[ "${bandwidth}" =~ ^[0-9]+$ ]] || { echo "ERROR:: CADC_DOUBLE_BANDWIDTH '${bandwidth}' must be bytes/s" >&2; return 1; }
  [[ "${latency}" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "ERROR:: CADC_DOUBLE_LATENCY '${latency}' must be seconds" >&2; return 1; }
  seconds="$(awk -v b="${bytes}" -v bw="${bandwidth}" -v l="${latency}" 'BEGIN { printf "%.3f", l + (bw > 0 ? b / bw : 0) }')"
  [[ "${seconds}" == 0.000 ]] || sleep "${seconds}"
}
