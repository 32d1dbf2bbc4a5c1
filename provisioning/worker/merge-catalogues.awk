# Merges per-chunk SExtractor ASCII_HEAD catalogues into the catalogue one source-extractor
# run over the whole multi-extension file would have written: the column header once, then
# every chunk's rows in order, with EXT_NUMBER shifted from the chunk's own numbering
# (1 = first extension of the chunk) to the exposure's. NUMBER needs no change: SExtractor
# restarts it at 1 in every extension. Widths are kept so rows match byte for byte.
#
# Called by do_catalogue.bash as:
#   awk -f merge-catalogues.awk offset=0 chunk0.cat offset=9 chunk1.cat ... > ID.cat

# Rewrites whitespace-separated field k of line with value v, right-aligned in the width of
# the field plus its leading blanks.
function set_field(line, k, v,    n, i, f, prev_end, start, width) {
  n = length(line)
  i = 1
  f = 0
  prev_end = 0
  while (i <= n) {
    while (i <= n && substr(line, i, 1) == " ") i++
    if (i > n) break
    f++
    start = i
    while (i <= n && substr(line, i, 1) != " ") i++
    if (f == k) {
      width = i - prev_end - 1
      return substr(line, 1, prev_end) sprintf("%" width "d", v) substr(line, i)
    }
    prev_end = i - 1
  }
  return line
}

FNR == 1 { files++; ext_col = 0 }

/^#/ {
  if ($3 == "EXT_NUMBER") ext_col = $2
  if (files == 1) print
  next
}

{
  if (ext_col == 0) {
    print "merge-catalogues: " FILENAME ": no EXT_NUMBER column in the header" > "/dev/stderr"
    exit 1
  }
  print set_field($0, ext_col, $ext_col + offset)
}
