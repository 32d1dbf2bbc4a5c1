/**
 * Where the catalogues go: vos:NODE[/PATH], in the characters VOSpace node names use in
 * practice, with no `..` anywhere and no `.` segment. do_catalogue.bash applies the same
 * rule to CATALOGUE_DEST (as VOS_RE and two globs); tests/rules holds the two to each
 * other, so a path the config accepts never makes every job exit 2.
 */
export const VOSPACE_ERE = "^vos:[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_.+-]+)*$";

export function isVospacePath(value: string): boolean {
  const path = value.endsWith("/") ? value.slice(0, -1) : value;
  return new RegExp(VOSPACE_ERE).test(path) && !path.includes("..") && !`${path}/`.includes("/./");
}
