#!/usr/bin/env bash
# What submit.sh and campaign.sh share about a stack's campaign: which run directories of
# the stack recorded a submission, the clusters they recorded, and the one condor_q over
# those clusters. Sourced, never run; delivered beside them into the run directory
# (components/batch-submission.ts), in provisioning/batch-host/ in the repository.
#
# A campaign is every submission of a stack: the run directories ~/canfar-batch/runs/STACK-HASH
# (HASH 12 hex digits), each with the .canfar-submitted marker submit.sh writes after a
# submission (cluster=, pipeline=, dest=, policy=, ...).

# The run directory's name: STACK-HASH (components/batch-submission.ts).
readonly CAMPAIGN_RUN_RE='^(.+)-[0-9a-f]{12}$'
readonly CAMPAIGN_MARKER=".canfar-submitted"
# What campaign_jobs asks condor_q for, in this order, tab-separated.
readonly CAMPAIGN_JOB_ATTRS="ClusterId ProcId JobStatus Args HoldReason"

# campaign_field MARKER KEY: the value of KEY in a marker file.
campaign_field() {
  sed -n "s/^$2=//p" "$1" | head -n 1
}

# campaign_submissions RUNS STACK: the stack's run directories that recorded a submission,
# newest first, as "TIME DIR" lines, TIME the marker's modification (to the nanosecond: two
# submissions may share a second).
campaign_submissions() {
  local runs="$1" stack="$2" dir name
  for dir in "${runs}/${stack}"-*/; do
    dir="${dir%/}"
    name="${dir##*/}"
    # Another stack whose name starts with this one's (dev, dev-2) is not this campaign.
    [[ "${name}" =~ ${CAMPAIGN_RUN_RE} && "${BASH_REMATCH[1]}" == "${stack}" && -f "${dir}/${CAMPAIGN_MARKER}" ]] || continue
    printf '%s %s\n' "$(find "${dir}/${CAMPAIGN_MARKER}" -maxdepth 0 -printf '%T@')" "${dir}"
  done | sort -k1,1nr
}

# campaign_clusters PIPELINE DIR...: the clusters the run directories' markers record, one a
# line, in the order given; with a PIPELINE, only those of submissions by that pipeline.
# A submission that queued nothing recorded no cluster.
campaign_clusters() {
  local pipeline="$1" dir cluster
  shift
  for dir in "$@"; do
    [[ -z "${pipeline}" || "$(campaign_field "${dir}/${CAMPAIGN_MARKER}" pipeline)" == "${pipeline}" ]] || continue
    cluster="$(campaign_field "${dir}/${CAMPAIGN_MARKER}" cluster)"
    [[ -z "${cluster}" ]] || printf '%s\n' "${cluster}"
  done
}

# campaign_jobs INTO CLUSTER...: one condor_q over the clusters, its tab-separated
# CAMPAIGN_JOB_ATTRS lines (one a job still in the queue; a job's Args are its exposure IDs,
# space-separated) in INTO, its error output in INTO.err. Returns condor_q's status (124
# when a schedd that does not answer kept it past CAMPAIGN_Q_TIMEOUT seconds).
readonly CAMPAIGN_Q_TIMEOUT=300
campaign_jobs() {
  local into="$1"
  shift
  # shellcheck disable=SC2086 # the attribute names are words on purpose.
  timeout --kill-after=10 "${CAMPAIGN_Q_TIMEOUT}" condor_q "$@" -af:t ${CAMPAIGN_JOB_ATTRS} >"${into}" 2>"${into}.err"
}
