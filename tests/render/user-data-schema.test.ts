import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { schemaComplaint } from "../support/cloud-init-schema";
import { missing } from "../support/requirements";

// Every user-data an example stack declares, as `npm run render` writes it, passes the real
// `cloud-init schema` with nothing to say but "valid": the build VM's once carried
// `ssh_genkeytypes: []`, which cloud-init 22.4 refuses as "too short".
const ROOT = join(__dirname, "..", "..");
const TSX = join(ROOT, "node_modules", ".bin", "tsx");
const STACKS = ["dev", "self-hosted"] as const;
const work = mkdtempSync(join(tmpdir(), "user-data-schema-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.skipIf(missing({ commands: ["cloud-init"] }))("npm run render of every example stack: each user-data passes the real `cloud-init schema`", () => {
  it.each(STACKS)("%s", (stack) => {
    const out = join(work, stack);
    const r = spawnSync(TSX, [join(ROOT, "tools", "render.ts"), "--stack", stack, "--out", out], { encoding: "utf8", cwd: ROOT, timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const files = readdirSync(join(out, "cloud-init"));
    expect(files).toContain("build-server.yaml");
    const complaints = files.flatMap((f) => {
      const complaint = schemaComplaint(join(out, "cloud-init", f));
      return complaint === undefined ? [] : [`${f}: ${complaint}`];
    });
    expect(complaints).toEqual([]);
  });

  it("and the check complains of a deprecated key, which cloud-init 22.4 reports with exit 0", () => {
    const file = join(work, "deprecated.yaml");
    writeFileSync(file, "#cloud-config\napt_update: true\n");
    expect(schemaComplaint(file)).toMatch(/deprecat/i);
  });
});
