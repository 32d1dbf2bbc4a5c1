import { spawnSync } from "node:child_process";

/**
 * What the real `cloud-init schema --config-file FILE` says of a user-data file, or undefined
 * when it says one thing only: valid. cloud-init 22.4 (Debian 12) exits 0 with its
 * deprecations printed before the "Valid cloud-config" line, and newer releases report some
 * errors as recoverable: an exit status alone would let either pass.
 */
export function schemaComplaint(file: string): string | undefined {
  const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
  const lines = `${r.stdout}${r.stderr}`.split("\n").filter((l) => l.trim() !== "");
  const clean = r.status === 0 && lines.length === 1 && /^Valid (cloud-config|schema)/.test(lines[0] ?? "") && !/deprecat|warning|error/i.test(lines[0] ?? "");
  return clean ? undefined : `exit ${r.status}: ${lines.join("\n")}`;
}
