#!/usr/bin/env bash
# Part of do_catalogue.bash, sourced by it (never run): from the compressed exposure to one
# catalogue: unpack and detect sources in chunks of CCDs in parallel (funpack, SExtractor,
# each chunk with its CCDs' zero point and seeing from catalogue-headers.bash), merge the
# chunks' catalogues (merge-catalogues.awk) behind one "# zero point:" line per CCD.
# Uses err, progress, die and the constants and globals of do_catalogue.bash.
# Checked alone, shellcheck cannot know the globals do_catalogue.bash declares (checked
# from there, with every part followed, it does).
# shellcheck disable=SC2154

# extract_chunk N "ZEROPOINT SEEING" EXT...: unpacks extensions EXT... into one file and
# runs source-extractor over it with that MAG_ZEROPOINT and SEEING_FWHM (- keeps
# catalogue.sex's), writing chunk-N.cat; exits with the pipeline's code for the step that
# failed. Runs in the background, one per chunk: it sets nothing its caller sees.
# Globals: reads work_dir, fz_path, sextractor, config_dir.
extract_chunk() {
  local n="$1" zero_point seeing
  read -r zero_point seeing <<<"$2"
  shift 2
  local fits="${work_dir}/chunk-${n}.fits" list
  local -a settings=(-MAG_ZEROPOINT "${zero_point}")
  [[ "${seeing}" == - ]] || settings+=(-SEEING_FWHM "${seeing}")
  list="$(IFS=,; echo "$*")"
  if ! funpack -C -E "${list}" -O "${fits}" "${fz_path}" >"${work_dir}/chunk-${n}.log" 2>&1; then
    err "funpack of extensions ${list} failed: $(grep -v '^ *$' "${work_dir}/chunk-${n}.log" | tail -n 5)"
    return "${EXIT_UNPACK}"
  fi
  if ! "${sextractor}" "${fits}" -c "${config_dir}/catalogue.sex" \
    -PARAMETERS_NAME "${config_dir}/catalogue.param" -FILTER_NAME "${config_dir}/default.conv" \
    -STARNNW_NAME "${config_dir}/default.nnw" \
    -CATALOG_NAME "${work_dir}/chunk-${n}.cat" -VERBOSE_TYPE QUIET "${settings[@]}" >>"${work_dir}/chunk-${n}.log" 2>&1 ||
    [[ ! -s "${work_dir}/chunk-${n}.cat" ]]; then
    err "source-extractor on extensions ${list} failed: $(grep -v '^ *$' "${work_dir}/chunk-${n}.log" | tail -n 5)"
    return "${EXIT_EXTRACT}"
  fi
  rm -f -- "${fits}"
  touch "${work_dir}/chunk-${n}.done"
}

# Splits the images into near-equal consecutive chunks, runs them on a pool of $jobs and
# merges their catalogues into one. A chunk is one source-extractor run, with one
# MAG_ZEROPOINT and SEEING_FWHM: it is cut further where its CCDs' settings differ (an
# Elixir exposure has one zero point for all CCDs, so it is cut no further).
# Globals: reads ext_numbers, ccd_settings, zero_point_notes, jobs, CHUNKS_PER_JOB,
# work_dir, id, config_dir; sets worker_pids while chunks run (the cleanup trap ends them)
# and catalogue.
extract_all() {
  local total="${#ext_numbers[@]}"
  local chunks=$((jobs * CHUNKS_PER_JOB))
  ((chunks > total)) && chunks="${total}"
  ((jobs == 1)) && chunks=1
  local -a first=() size=()
  local c i start=0 end
  for ((c = 0; c < chunks; c++)); do
    end=$(((total * (c + 1)) / chunks))
    for ((i = start + 1; i <= end; i++)); do
      if ((i == end)) || [[ "${ccd_settings[i]}" != "${ccd_settings[start]}" ]]; then
        first+=("${start}")
        size+=($((i - start)))
        start="${i}"
      fi
    done
  done
  chunks="${#first[@]}"
  progress "${total} CCDs in ${chunks} chunks, ${jobs} at a time"

  local next=0 running=0 done_ccds=0 failure=0 status
  local -a counted=()
  # Job control puts each worker in its own process group, so cleanup can end it whole.
  set -m
  while ((next < chunks || running > 0)); do
    if ((failure == 0 && next < chunks && running < jobs)); then
      extract_chunk "${next}" "${ccd_settings[first[next]]}" "${ext_numbers[@]:first[next]:size[next]}" &
      worker_pids+=("$!")
      next=$((next + 1))
      running=$((running + 1))
      continue
    fi
    if ((running == 0)); then
      break
    fi
    if wait -n; then status=0; else status=$?; fi
    running=$((running - 1))
    if ((status != 0 && failure == 0)); then
      failure="${status}"
    fi
    for ((c = 0; c < next; c++)); do
      if [[ -z "${counted[c]:-}" && -e "${work_dir}/chunk-${c}.done" ]]; then
        counted[c]=1
        done_ccds=$((done_ccds + size[c]))
        progress "ccd ${done_ccds}/${total} done"
      fi
    done
  done
  set +m
  worker_pids=()
  if ((failure != 0)); then
    ((failure == EXIT_UNPACK || failure == EXIT_EXTRACT)) || failure="${EXIT_EXTRACT}"
    die "${failure}" "extraction stopped after ${done_ccds}/${total} CCDs"
  fi

  local -a merge_args=()
  for ((c = 0; c < chunks; c++)); do
    # EXT_NUMBER in a chunk counts from its first image; the whole file's counts from 1.
    merge_args+=("offset=${first[c]}" "${work_dir}/chunk-${c}.cat")
  done
  catalogue="${work_dir}/${id}.cat"
  {
    printf '%s\n' "${zero_point_notes[@]}"
    awk -f "${config_dir}/merge-catalogues.awk" "${merge_args[@]}"
  } >"${catalogue}" || die "${EXIT_EXTRACT}" "merging the chunk catalogues failed"
}
