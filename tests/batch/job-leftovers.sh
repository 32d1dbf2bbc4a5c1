#!/bin/bash
#
# Test instrumentation, installed by pool-blank.test.ts in its own pool's root as the
# execute side's USER_JOB_WRAPPER, with the pool's wrapper moved beside it as
# JOB-WRAPPER.inner. It runs that wrapper (which runs the job), then records what the job
# left in its scratch directory before HTCondor removes the directory, which it does
# whatever the job left: only this listing tells the pipeline's own cleanup apart from
# HTCondor's. One line a job in LOG: "ARGS|EXIT|ENTRY ENTRY ...", entries relative to the
# scratch directory.
# A job killed by a signal shows here as exit 128+N rather than as killed: enough for that
# test, whose jobs are never signalled (HTCondor ends the whole process family on removal).

set -uo pipefail

readonly LOG=/var/log/canfar-test/leftovers.log

"$0.inner" "$@" &
job=$!
status=0
wait "${job}" || status=$?
left="$(cd "${_CONDOR_SCRATCH_DIR:?}" && find . -mindepth 1 -printf '%P\n' | sort | tr '\n' ' ')"
printf '%s|%s|%s\n' "$*" "${status}" "${left% }" >>"${LOG}"
exit "${status}"
