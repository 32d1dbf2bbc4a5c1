#!/usr/bin/env bash
# Shared by the CANFAR/HTCondor doubles (canfar_submit, condor_submit, condor_q,
# condor_history, condor_rm): loads their scenario and says where they log. Sourced, never run.
#
# The scenario is a KEY=VALUE file, $CANFAR_DOUBLE_CONF or /etc/canfar-double.conf, because
# over SSH the environment of the caller does not reach the batch host:
#   CANFAR_SUBMIT_VERSION=csv1|csv2     which canfar_submit to behave like (csv2)
#   CANFAR_DOUBLE_STATE=DIR             call log, cluster counter, submitted files
#   CANFAR_DOUBLE_IMAGES="a b b"        image names visible to the project (csv1 resolves)
#   CANFAR_DOUBLE_FLAVORS="c2-7.5gb-30" flavors csv1 accepts
#   CANFAR_DOUBLE_PASSWORD_SHA256=HEX   csv1: the password that authenticates (any if unset)
#   CANFAR_DOUBLE_FAIL=quota            csv1: the image share fails for quota
#   CANFAR_DOUBLE_FAIL=silent           exits 0 printing no "submitted to cluster" line
#   CANFAR_DOUBLE_HANG=SECONDS          canfar_submit sleeps this long first
#   CONDOR_DOUBLE_FIRST_CLUSTER=1234    first cluster number condor_submit hands out
#   CONDOR_DOUBLE_FAIL=1                condor_submit fails (the schedd does not answer)
#   CONDOR_Q_DOUBLE_FAIL=1              condor_q fails (the schedd does not answer)
#   CANFAR_DOUBLE_CONDOR_SUBMIT=PATH    the condor_submit canfar_submit feeds (default: the
#                                       first on PATH; /usr/bin/condor_submit on a real pool)
conf="${CANFAR_DOUBLE_CONF:-/etc/canfar-double.conf}"
if [[ -f "${conf}" ]]; then
  # shellcheck disable=SC1090
  source "${conf}"
fi
CANFAR_DOUBLE_STATE="${CANFAR_DOUBLE_STATE:-/tmp/canfar-double}"
mkdir -p "${CANFAR_DOUBLE_STATE}"

# Appends one line to the shared call log: the tool, then its argv. Never the environment.
double_log() {
  printf '%s\n' "$*" >>"${CANFAR_DOUBLE_STATE}/calls.log"
}
