#!/usr/bin/env bash
# Part of do_catalogue.bash, sourced by it (never run): what the compressed exposure's
# headers say, read once before any unpacking: which HDUs are CCD images, whether the file
# is as long as its headers describe (funpack unpacks a truncated file without complaint),
# and each CCD's photometry: the magnitude zero point (Elixir's PHOT_C, EXPTIME, PHOT_K,
# AIRMASS) and the seeing (IQMEASUR), so that source-extractor runs with that CCD's
# MAG_ZEROPOINT and SEEING_FWHM. GAIN and SATURATE need nothing here: SExtractor reads them
# from each extension's header itself (GAIN_KEY, SATUR_KEY in catalogue.sex).
# Uses progress, die and the constants and globals of do_catalogue.bash.
# Checked alone, shellcheck cannot know the globals do_catalogue.bash declares (checked
# from there, with every part followed, it does).
# shellcheck disable=SC2154

readonly FITS_BLOCK=2880
# Header blocks read at first per HDU (576 cards, 46 KB); a longer header is read again
# with twice as many, so any length works, a long one at the cost of another dd.
readonly HEADER_BLOCKS=16

# Writes the header cards of every HDU of the compressed exposure to file $1, one card a
# line, each header ending with its END line, and sets described_bytes to the file size the
# headers describe. Only the header blocks are read: one dd per HDU at the HDU's offset
# (from the previous header's sizes) cuts the blocks into 80-character lines
# (conv=unblock), so bash reads whole lines (mapfile) rather than byte by byte (read -N); a
# 340 MB exposure costs 37 dd runs and 2 MB of reads, where funpack -L reads it all.
# Globals: reads fz_path, FITS_BLOCK, HEADER_BLOCKS; sets described_bytes.
read_headers() {
  local out="$1" lines_file="$1.hdu"
  local LC_ALL=C
  local hdu=0 offset=0 want end i blocks card size
  local -a lines=()
  size="$(stat -L -c '%s' "${fz_path}")"
  : >"${out}"
  while ((offset * FITS_BLOCK < size)); do
    want="${HEADER_BLOCKS}"
    while :; do
      dd if="${fz_path}" bs="${FITS_BLOCK}" skip="${offset}" count="${want}" cbs=80 conv=unblock status=none >"${lines_file}" ||
        die "${EXIT_UNPACK}" "cannot read the header of HDU ${hdu} in ${fz_path}"
      mapfile -t lines <"${lines_file}"
      end=-1
      for ((i = 0; i < ${#lines[@]} && i < want * 36; i++)); do
        if [[ "${lines[i]}" == END ]]; then
          end="${i}"
          break
        fi
      done
      ((end < 0 && ${#lines[@]} >= want * 36)) || break
      want=$((want * 2))
    done
    if [[ (${hdu} -eq 0 && "${lines[0]:0:10}" != "SIMPLE  = ") || (${hdu} -gt 0 && "${lines[0]:0:10}" != "XTENSION= ") ]]; then
      die "${EXIT_UNPACK}" "${fz_path} is not a FITS file, or is corrupt: HDU ${hdu} at byte $((offset * FITS_BLOCK)) does not start with a FITS header"
    fi
    ((end >= 0)) || die "${EXIT_UNPACK}" "${fz_path} is truncated or corrupt: the header of HDU ${hdu} has no END"
    data_blocks ||
      die "${EXIT_UNPACK}" "${fz_path}: HDU ${hdu} has a malformed size (BITPIX, NAXISn, PCOUNT, GCOUNT)"
    printf '%s\n' "${lines[@]:0:end+1}" >>"${out}"
    offset=$((offset + end / 36 + 1 + blocks))
    hdu=$((hdu + 1))
  done
  rm -f -- "${lines_file}"
  described_bytes=$((offset * FITS_BLOCK))
}

# Sets blocks to the number of 2880-byte blocks of the data unit after the header in
# lines, from its mandatory cards, which the FITS standard fixes in order: SIMPLE or
# XTENSION, BITPIX, NAXIS, NAXIS1..n, then (extensions) PCOUNT, GCOUNT. Fails if they are
# not whole numbers. (No command substitution: a fork per HDU would cost more than the
# reading.)
# Globals: reads lines, FITS_BLOCK; sets blocks and card.
data_blocks() {
  local bitpix naxis n=1 i pcount=0 gcount=1
  card_number 1 || return 1
  bitpix="${card#-}"
  card_number 2 || return 1
  naxis="${card}"
  for ((i = 1; i <= naxis; i++)); do
    card_number $((2 + i)) || return 1
    n=$((n * card))
  done
  ((naxis > 0)) || n=0
  if [[ "${lines[0]:0:8}" == XTENSION ]]; then
    card_number $((3 + naxis)) || return 1
    pcount="${card}"
    card_number $((4 + naxis)) || return 1
    gcount="${card}"
  fi
  blocks=$((((bitpix / 8) * gcount * (pcount + n) + FITS_BLOCK - 1) / FITS_BLOCK))
}

# Sets card to the whole-number value of card $1 (0-based) of lines; fails unless it is one.
# Globals: reads lines; sets card.
card_number() {
  card="${lines[$1]:10:20}"
  card="${card// /}"
  [[ "${card}" =~ ^-?[0-9]{1,12}$ ]] || return 1
  if [[ "${card}" == -* ]]; then
    card="-$((10#${card#-}))"
  else
    card="$((10#${card}))"
  fi
}

# The image HDUs and the per-CCD settings, from the headers. ext_numbers: the HDUs holding
# images of two or more axes (funpack -E numbering: 0 = primary); for the i-th of them,
# ccd_settings[i] is "MAG_ZEROPOINT SEEING_FWHM" (SEEING_FWHM "-": catalogue.sex's),
# ccd_pixels[i] its size in pixels and zero_point_notes[i] a "# zero point: ..." line saying
# which zero point was applied and where it came from.
# Each keyword is taken from the CCD's own header, else from the primary header.
# Zero point (Elixir's "Formula for Photometry", written in the headers of processed files;
# see README.md): ZP = PHOT_C + 2.5 log10(EXPTIME) + PHOT_K (AIRMASS - 1), as the pixels
# are ADU over the whole exposure; the colour term PHOT_X (PHOT_C1 - PHOT_C2) needs each
# source's colour in a second band and is left out. Without PHOT_C or EXPTIME (a raw `o`
# file) the magnitudes stay instrumental (ZP 0) and the note says so.
# Globals: reads fz_path, work_dir; sets ext_numbers, ccd_settings, ccd_pixels,
# zero_point_notes.
list_images() {
  local headers="${work_dir}/headers.txt" described_bytes actual
  read_headers "${headers}"
  actual="$(stat -L -c '%s' "${fz_path}")"
  if ((described_bytes != actual)); then
    die "${EXIT_UNPACK}" "${fz_path} is ${actual} bytes but its headers describe ${described_bytes} bytes: truncated or corrupt"
  fi
  ext_numbers=() ccd_settings=() ccd_pixels=() zero_point_notes=()
  local hdu zp seeing pixels note
  while IFS=$'\t' read -r hdu zp seeing pixels note; do
    ext_numbers+=("${hdu}")
    ccd_settings+=("${zp} ${seeing}")
    ccd_pixels+=("${pixels}")
    zero_point_notes+=("${note}")
  done < <(awk "${HEADERS_AWK}" "${headers}")
  ((${#ext_numbers[@]} > 0)) || die "${EXIT_UNPACK}" "${fz_path} holds no image"
}

# Header cards in (one a line, END closing each HDU), one tab-separated line per image HDU
# out: HDU number, zero point, seeing (or -), pixels, the "# zero point:" note.
# shellcheck disable=SC2016 # awk's own $ fields, not shell expansions
readonly HEADERS_AWK='
function number(key, h,    v) {
  v = (h SUBSEP key) in kv ? kv[h, key] : ((0 SUBSEP key) in kv ? kv[0, key] : "")
  gsub(/[dD]/, "E", v)
  return v ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/ ? v : ""
}
function hv(key, h) { return (h SUBSEP key) in kv ? kv[h, key] : "" }
function from(key, h) {
  if (!((h SUBSEP key) in kv)) primary = primary (primary == "" ? "" : ", ") key
  return ""
}
function shown(v) { return sprintf("%g", v + 0) }
BEGIN {
  hdus = 0
  split("PHOT_C EXPTIME PHOT_K AIRMASS IQMEASUR EXTNAME NAXIS NAXIS1 NAXIS2 ZNAXIS ZNAXIS1 ZNAXIS2 ZIMAGE XTENSION", keys, " ")
  for (i in keys) keep[keys[i]] = 1
}
$0 != "END" {
  if (substr($0, 9, 2) != "= ") next
  key = substr($0, 1, 8)
  sub(/ +$/, "", key)
  if (!(key in keep)) next
  v = substr($0, 11)
  if (v ~ /^ *\047/) { sub(/^ *\047/, "", v); sub(/\047.*$/, "", v); sub(/ +$/, "", v) }
  else { sub(/\/.*$/, "", v); gsub(/ /, "", v) }
  kv[hdus, key] = v
  next
}
{
  h = hdus++
  # As funpack -L lists images: a compressed image, the primary or an IMAGE extension, of
  # two or more axes, with pixels.
  if (hv("ZIMAGE", h) == "T") { axes = hv("ZNAXIS", h); pixels = hv("ZNAXIS1", h) * hv("ZNAXIS2", h) }
  else if (h == 0 || hv("XTENSION", h) == "IMAGE") { axes = hv("NAXIS", h); pixels = hv("NAXIS1", h) * hv("NAXIS2", h) }
  else next
  if (axes + 0 < 2 || pixels <= 0) next
  ext = ++images
  # EXTNAME goes into a tab-separated line and the catalogue: header text, so kept tame.
  name = hv("EXTNAME", h)
  gsub(/[^A-Za-z0-9_.+-]/, "?", name)
  c = number("PHOT_C", h); t = number("EXPTIME", h); k = number("PHOT_K", h); a = number("AIRMASS", h)
  label = "EXT_NUMBER " ext (name == "" ? "" : " (" name ")")
  primary = ""
  if (c != "" && t != "" && t + 0 > 0) {
    zp = c + 2.5 * log(t) / log(10)
    how = "PHOT_C " shown(c) from("PHOT_C", h) " + 2.5 log10(EXPTIME " shown(t) from("EXPTIME", h) ")"
    if (k != "" && a != "") {
      zp += k * (a - 1)
      how = how " + PHOT_K " shown(k) from("PHOT_K", h) " x (AIRMASS " shown(a) from("AIRMASS", h) " - 1)"
    } else {
      how = how ", no airmass term (PHOT_K or AIRMASS missing)"
    }
    zp = sprintf("%.4f", zp)
    note = "# zero point: " label ": MAG_ZEROPOINT " zp " = " how " (Elixir calibration"
    note = note (primary == "" ? "" : "; " primary " from the primary header") ")"
  } else {
    zp = "0.0000"
    why = c == "" ? "no PHOT_C" : "no EXPTIME > 0"
    note = "# zero point: " label ": MAG_ZEROPOINT 0 (" why " in the header): instrumental magnitudes, -2.5 log10(ADU)"
  }
  s = number("IQMEASUR", h)
  if (s != "" && s + 0 > 0) {
    seeing = sprintf("%.3f", s)
    note = note "; SEEING_FWHM " seeing " (IQMEASUR" ((h SUBSEP "IQMEASUR") in kv ? "" : " of the primary header") ")"
  } else {
    seeing = "-"
  }
  printf "%d\t%s\t%s\t%d\t%s\n", h, zp, seeing, pixels, note
}'
