#!/usr/bin/env bash
# Part of do_catalogue.bash, sourced by it (never run): what is at the destination and
# moving files, bounded and retried: whether this pipeline's catalogue is already stored
# (vls, or a local file), the exposure's download (cadcget, or a local directory), the
# provenance header and the catalogue's upload, whole or not at all (vcp + vmv, or cp + mv). Uses err, progress, die and the constants and
# globals of do_catalogue.bash.
# Checked alone, shellcheck cannot know the globals do_catalogue.bash declares (checked
# from there, with every part followed, it does).
# shellcheck disable=SC2154

# with_retries TIMEOUT PREPARE CMD...: runs PREPARE ATTEMPT (a function, or :), then the
# command CMD under a timeout, up to $retries times, waiting $retry_delay seconds, doubled
# each time, between attempts. cadcget exits 255 on any error and vcp retries I/O errors
# for ever, so only the timeout and the count bound them.
# Globals: reads retries, retry_delay.
with_retries() {
  local limit="$1" prepare="$2"
  shift 2
  local attempt=1 delay="${retry_delay}" status
  while :; do
    "${prepare}" "${attempt}"
    if timeout --kill-after=10 "${limit}" "$@"; then
      return 0
    else
      status=$?
    fi
    if ((status == 124 || status == 137)); then
      err "'$1' timed out after ${limit} s (attempt ${attempt}/${retries})"
    else
      err "'$1' failed with exit ${status} (attempt ${attempt}/${retries})"
    fi
    ((attempt < retries)) || return "${status}"
    sleep "${delay}"
    attempt=$((attempt + 1))
    delay=$((delay * 2))
  done
}

# Where the catalogue is stored: ID.P.cat names the pipeline that made it, so catalogues of
# another pipeline are neither taken for this one's nor replaced (ID.cat by hand).
# Globals: reads dest_spec, id, pipeline; sets final.
name_catalogue() {
  final="${dest_spec}/${id}${pipeline:+.${pipeline}}.cat"
}

# True when this pipeline's catalogue is already stored (one vls, or a look at the
# directory). Only a submission's job (CATALOGUE_PIPELINE set) skips: a run by hand always
# runs. A listing that fails for another reason than a missing node is no proof either way:
# the job does the work.
# Globals: reads pipeline, final, upload_timeout, vos_cert.
already_catalogued() {
  [[ -n "${pipeline}" ]] || return 1
  if [[ "${final}" != vos:* ]]; then
    [[ -f "${final}" ]]
    return
  fi
  local status=0 text
  text="$(timeout --kill-after=10 "${upload_timeout}" vls "${vos_cert[@]}" "${final}" 2>&1)" || status=$?
  ((status != 0)) || return 0
  # vls exits with the errno of what failed: 2 (ENOENT) for a node that is not there.
  ((status == 2)) || err "could not tell whether ${final} exists (vls exit ${status}: ${text}); cataloguing anyway"
  return 1
}

# The catalogue says what made it, in comment lines before SExtractor's header (readers of
# ASCII_HEAD catalogues skip them as they skip the header): the exposure, the pipeline, the
# image, the tools' versions and when, in UTC.
# Globals: reads id, pipeline, image, tool_versions, work_dir; sets catalogue.
add_provenance() {
  local stored="${work_dir}/${id}.stored.cat"
  {
    printf '# canfar-batch exposure: %s
' "${id}"
    printf '# canfar-batch pipeline: %s
' "${pipeline:-none (run by hand)}"
    printf '# canfar-batch image: %s
' "${image:-none (CATALOGUE_IMAGE not set)}"
    printf '# canfar-batch tools: %s
' "${tool_versions}"
    printf '# canfar-batch made: %s
' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    cat -- "${catalogue}"
  } >"${stored}" || die "${EXIT_EXTRACT}" "writing ${stored} failed"
  catalogue="${stored}"
}

# A retried download starts from nothing.
# Globals: reads fz_path.
remove_partial_download() {
  rm -f -- "${fz_path}"
}

# The compressed exposure, downloaded into the work directory or read in place.
# Globals: reads source_spec, id, work_dir, download_timeout, cadc_cert; sets fz_path.
download() {
  if [[ "${source_spec}" == cadc:* ]]; then
    fz_path="${work_dir}/${id}.fits.fz"
    progress "downloading ${source_spec}/${id}.fits.fz"
    with_retries "${download_timeout}" remove_partial_download \
      cadcget "${cadc_cert[@]}" -o "${fz_path}" "${source_spec}/${id}.fits.fz" ||
      die "${EXIT_DOWNLOAD}" "download of ${source_spec}/${id}.fits.fz failed"
  else
    fz_path="${source_spec}/${id}.fits.fz"
  fi
  [[ -f "${fz_path}" && -r "${fz_path}" && -s "${fz_path}" ]] ||
    die "${EXIT_DOWNLOAD}" "${fz_path} is missing, unreadable or empty"
}

# remove_part PATH: removes a half-stored catalogue, in VOSpace or in a local directory.
# Globals: reads upload_timeout, vos_cert.
remove_part() {
  if [[ "$1" == vos:* ]]; then
    timeout --kill-after=10 "${upload_timeout}" vrm "${vos_cert[@]}" "$1" >/dev/null 2>&1 ||
      err "could not remove $1 (if it exists, remove it by hand)"
  else
    rm -f -- "$1"
  fi
}

# A retried vcp starts from nothing, so a half-written part never survives a retry.
# Globals: reads upload_part.
remove_part_before_retry() {
  if (("$1" > 1)); then
    remove_part "${upload_part}"
  fi
}

# VOSpace refuses to move onto an existing node (DuplicateNode): when a move fails, the old
# catalogue of an earlier run is removed before trying again, so a re-run replaces it.
# Globals: reads final, upload_timeout, vos_cert.
remove_final_before_retry() {
  if (("$1" > 1)); then
    timeout --kill-after=10 "${upload_timeout}" vrm "${vos_cert[@]}" "${final}" >/dev/null 2>&1 || true
  fi
}

# The catalogue is written under a hidden name unique to this host and process, then
# renamed in one step, so readers and re-runs see the whole catalogue or none: a local
# rename is atomic; a VOSpace move (vmv) is one server-side operation, whereas a vcp
# straight to the final name could leave a truncated node after a timeout or a lost link.
# Globals: reads dest_spec, id, catalogue, final, upload_timeout, vos_cert, HOSTNAME; sets
# upload_part while a part exists (the cleanup trap removes it).
upload() {
  local part="${dest_spec}/.${id}.cat.part-${HOSTNAME:-host}-$$"
  progress "uploading to ${final}"
  upload_part="${part}"
  if [[ "${dest_spec}" == vos:* ]]; then
    with_retries "${upload_timeout}" remove_part_before_retry vcp "${vos_cert[@]}" "${catalogue}" "${part}" ||
      die "${EXIT_UPLOAD}" "upload to ${part} failed"
    with_retries "${upload_timeout}" remove_final_before_retry vmv "${vos_cert[@]}" "${part}" "${final}" ||
      die "${EXIT_UPLOAD}" "moving ${part} to ${final} failed"
  else
    with_retries "${upload_timeout}" : cp -- "${catalogue}" "${part}" ||
      die "${EXIT_UPLOAD}" "copy to ${part} failed"
    mv -f -- "${part}" "${final}" || die "${EXIT_UPLOAD}" "renaming ${part} to ${final} failed"
  fi
  upload_part=""
  progress "stored ${final} ($(awk '!/^#/ { n++ } END { print n + 0 }' "${catalogue}") sources)"
}
