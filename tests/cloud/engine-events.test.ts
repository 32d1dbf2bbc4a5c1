import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { logicalChanges, type StepMetadata } from "./engine-events";

// The lifecycle test runs only against a real cloud; what it counts, and what it leaves
// behind when skipped, are checked here, where CI runs them.
const ROOT = join(__dirname, "..", "..");
const ENGINE_PREVIEW = join(ROOT, "tests", "fixtures", "engine", "extra-packages.engine-preview.json");

/**
 * The real engine's steps for an added package, as its events carry them: `logical` is
 * Step.Logical() (pkg/resource/deploy/step.go: replace, update, same true; a create or delete
 * that is part of a replacement, i.e. create-replacement and delete-replaced, false), and
 * omitted when false (omitempty).
 */
function engineEvents(): StepMetadata[] {
  const doc = JSON.parse(readFileSync(ENGINE_PREVIEW, "utf8")) as { steps: Array<{ op: string; urn: string }> };
  const notLogical = new Set(["create-replacement", "delete-replaced"]);
  return doc.steps.map((s) => (notLogical.has(s.op) ? { op: s.op, urn: s.urn } : { op: s.op, urn: s.urn, logical: true }));
}

describe("the lifecycle test's count of what an up changed", () => {
  it("counts each replacement of the engine's steps once: 34, not 102", () => {
    const events = engineEvents();
    expect(events.filter((m) => m.op !== "same")).toHaveLength(102);
    const changes = logicalChanges(events);
    expect(changes).toHaveLength(34);
    expect(changes.every((c) => c.startsWith("replace urn:pulumi:probe::"))).toBe(true);
    expect(new Set(changes).size).toBe(34);
  });

  it("treats an absent logical as false, and skips events without step metadata", () => {
    expect(logicalChanges([{ op: "create-replacement", urn: "u" }, undefined, { op: "same", urn: "s", logical: true }, { op: "create", urn: "c", logical: true }])).toEqual(["create c"]);
  });
});

describe("the lifecycle test, skipped", () => {
  it("makes no temporary directory", () => {
    const tmp = mkdtempSync(join(tmpdir(), "lifecycle-skip-"));
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("VITEST") && k !== "CANFAR_BATCH_CLOUD_CONFIG"));
      const r = spawnSync(join(ROOT, "node_modules", ".bin", "vitest"), ["run", "tests/cloud/lifecycle.test.ts"], { cwd: ROOT, encoding: "utf8", timeout: 120_000, env: { ...env, TMPDIR: tmp } });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stderr).toContain("skipping the real-cloud lifecycle test");
      expect(readdirSync(tmp).filter((f) => f.startsWith("canfar-batch-state-"))).toEqual([]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
