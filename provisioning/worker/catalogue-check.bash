#!/usr/bin/env bash
# Part of do_catalogue.bash, sourced by it (never run): the merged catalogue is checked
# before it is stored, so that a job which found nothing, or wrote nonsense, is held with
# its own exit code instead of "succeeding". Checked:
#   - it parses: SExtractor's column header, every row as many numbers as the header says;
#   - it has every column catalogue.param asks for (and EXT_NUMBER, FLUX_AUTO, FLUXERR_AUTO,
#     which the check itself reads), and EXT_NUMBER names one of the exposure's CCDs;
#   - at least one source on some CCD has S/N >= CHECK_MIN_SNR (FLUX_AUTO / FLUXERR_AUTO):
#     sky noise alone gives a few detections per CCD, none that strong (at most S/N 6 on a
#     blank synthetic CCD of 2048x4612), so a blank or failed exposure fails here;
#   - no CCD holds more than one source per CHECK_PIXELS_PER_SOURCE pixels, which no real
#     field reaches (a source is several seeing discs across) and corrupt pixels can.
# A CCD without any strong source while most CCDs have CHECK_MIN_TYPICAL or more is reported
# (a dead or covered CCD) but does not fail the job.
# Uses progress, die and the constants and globals of do_catalogue.bash.
# Checked alone, shellcheck cannot know the globals do_catalogue.bash declares (checked
# from there, with every part followed, it does).
# shellcheck disable=SC2154

readonly CHECK_MIN_SNR=10
readonly CHECK_PIXELS_PER_SOURCE=25
readonly CHECK_MIN_TYPICAL=10

# Globals: reads catalogue, config_dir, ext_numbers, ccd_pixels and the CHECK_* constants.
check_catalogue() {
  local report pixels
  pixels="$(IFS=,; echo "${ccd_pixels[*]}")"
  if ! report="$(awk -v param="${config_dir}/catalogue.param" -v ccds="${#ext_numbers[@]}" -v pixels="${pixels}" \
    -v min_snr="${CHECK_MIN_SNR}" -v pixels_per_source="${CHECK_PIXELS_PER_SOURCE}" -v min_typical="${CHECK_MIN_TYPICAL}" \
    "${CHECK_AWK}" "${catalogue}" 2>&1)"; then
    die "${EXIT_CHECK}" "catalogue check failed, nothing stored: ${report}"
  fi
  progress "${report}"
}

# The catalogue in, one line out: the summary (exit 0) or the first reason it fails (exit 1).
# shellcheck disable=SC2016 # awk's own $ fields, not shell expansions
readonly CHECK_AWK='
function fail(why) { print why; failed = 1; exit 1 }
BEGIN {
  while ((got = getline line < param) > 0) {
    sub(/#.*/, "", line)
    if (split(line, w, " ") == 0) continue
    name = w[1]
    size = 1
    if (match(name, /\([0-9]+\)$/)) { size = substr(name, RSTART + 1, RLENGTH - 2) + 0; name = substr(name, 1, RSTART - 1) }
    wanted[name] = size
  }
  if (got < 0) fail("cannot read " param)
  wanted["EXT_NUMBER"] += 0; wanted["FLUX_AUTO"] += 0; wanted["FLUXERR_AUTO"] += 0
  split(pixels, area, ",")
  number = "^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$"
}
/^#/ {
  if ($0 ~ /^# +[0-9]+ [A-Za-z]/) {
    if (rows) fail("line " NR ": a column header line after the rows")
    column[$3] = $2 + 0
    if ($2 + 0 > last) { last = $2 + 0; last_name = $3 }
  }
  next
}
{
  if (!header_checked) {
    for (name in wanted) if (!(name in column)) missing = missing " " name
    if (missing != "") fail("columns missing:" missing)
    width = last + (wanted[last_name] > 1 ? wanted[last_name] - 1 : 0)
    e_col = column["EXT_NUMBER"]; f_col = column["FLUX_AUTO"]; fe_col = column["FLUXERR_AUTO"]
    header_checked = 1
  }
  rows++
  if (NF != width) fail("line " NR ": " NF " fields where the header has " width)
  for (i = 1; i <= NF; i++) {
    if ($i !~ number && tolower($i) !~ /^[-+]?(nan|inf)$/) fail("line " NR ", field " i ": \"" $i "\" is not a number")
  }
  e = $e_col
  if (e != int(e) || e < 1 || e > ccds) fail("line " NR ": EXT_NUMBER " e " is not one of the " ccds " CCDs")
  count[e]++
  if ($fe_col > 0 && $f_col / $fe_col >= min_snr) strong[e]++
}
END {
  if (failed) exit 1
  if (last == 0) fail("no SExtractor column header")
  if (!header_checked) {
    for (name in wanted) if (!(name in column)) missing = missing " " name
    if (missing != "") fail("columns missing:" missing)
  }
  total_strong = 0
  for (e = 1; e <= ccds; e++) {
    total_strong += strong[e]
    if (area[e] > 0 && count[e] * pixels_per_source > area[e]) {
      fail("CCD " e ": " count[e] " sources in " area[e] " pixels, more than one per " pixels_per_source " pixels: implausible (noise or corrupt pixels)")
    }
    typical[e] = strong[e] + 0
  }
  if (total_strong == 0) {
    fail("no source with S/N >= " min_snr " on any of the " ccds " CCDs (" rows + 0 " detections in all): a blank or failed exposure")
  }
  # The median CCD: at most one in two CCDs may lack strong sources before one is remarked on.
  n = 0
  for (e = 1; e <= ccds; e++) sorted[++n] = typical[e]
  for (i = 2; i <= n; i++) { v = sorted[i]; for (j = i - 1; j >= 1 && sorted[j] > v; j--) sorted[j + 1] = sorted[j]; sorted[j + 1] = v }
  median = sorted[int((n + 1) / 2)]
  empty = ""
  if (median >= min_typical) for (e = 1; e <= ccds; e++) if (typical[e] == 0) empty = empty " " e
  printf "checked: %d sources on %d CCDs, %d with S/N >= %d (median %d a CCD)%s\n", rows, ccds, total_strong, min_snr, median, \
    (empty == "" ? "" : "; no strong source on CCD" empty ": dead or covered?")
}'
