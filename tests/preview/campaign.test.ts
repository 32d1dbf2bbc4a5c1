import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { predict } from "../../tools/preview/predict";
import { renderDev } from "./stack-change";
import { deliveryName, RUN_DIR_FILES } from "../support/run-dir-files";

// What the preview says a campaign change costs, before `up`: how many exposures at most,
// and why. submit.sh decides at submit time from one listing of the destination; the
// preview bounds it from the exposures, pipeline identity, destination and policy.
const FOUR = ["1056215p", "1056216p", "1056217p", "1056218p"];
const submitOf = (rs: readonly PlannedResource[]) => {
  const r = rs.find((x) => x.name === "batch-submit");
  if (!r) throw new Error("no batch-submit");
  return r as PlannedResource & { inputs: { create: string; triggers: unknown[] } };
};
const pipelineOf = (rs: readonly PlannedResource[]) => /--pipeline ([0-9a-f]{12})/.exec(submitOf(rs).inputs.create)?.[1] ?? "";
const consequence = (base: PlannedResource[], head: PlannedResource[]) => {
  const p = predict(base, head);
  expect(p.hazards).toEqual([]);
  const c = p.consequences.filter((x) => ["new-submission", "no-requeue", "requeue-all", "resubmit-same"].includes(x.id));
  expect(c, JSON.stringify(p.consequences)).toHaveLength(1);
  return c[0] as { id: string; text: string };
};

/** The head with another pipeline identity, as a changed catalogue.param would give: a new run directory too. */
function withPipeline(rs: readonly PlannedResource[], identity: string): PlannedResource[] {
  const old = pipelineOf(rs);
  return rs.map((r) =>
    r.name === "batch-submit"
      ? { ...r, inputs: { ...submitOf(rs).inputs, create: submitOf(rs).inputs.create.replace(`--pipeline ${old}`, `--pipeline ${identity}`), triggers: ["another-run-directory"] } }
      : r,
  );
}

describe("the preview of a campaign change", () => {
  let base: PlannedResource[];
  let p: string;
  beforeAll(async () => {
    base = await renderDev({ set: { observationIds: FOUR } });
    p = pipelineOf(base);
  }, 120_000);

  it("two exposures added: up to 2 new ones, the catalogued skipped", async () => {
    const head = await renderDev({ set: { observationIds: [...FOUR, "1056219p", "1056220p"] } });
    expect(pipelineOf(head)).toBe(p);
    expect(consequence(base, head)).toEqual({
      id: "new-submission",
      text: `a new batch submission: up to 2 new exposures; those already catalogued by pipeline ${p} are skipped at submit time`,
    });
  });

  it("a new image with the same pipeline (a provisioning script edited): no exposure re-queued, and why", async () => {
    const head = await renderDev({ set: { observationIds: FOUR, scratchDevice: "/dev/vdc" } });
    const c = consequence(base, head);
    expect(c.id).toBe("no-requeue");
    expect(c.text).toContain(`no exposure re-queued: pipeline ${p} is unchanged`);
    expect(c.text).toContain("other source-extractor or funpack versions would change the identity");
  });

  it("another pipeline identity: up to every exposure queued again, from which identity to which", () => {
    const c = consequence(base, withPipeline(base, "0123456789ab"));
    expect(c).toEqual({
      id: "requeue-all",
      text: `up to 4 exposures queued again: the pipeline identity changes from ${p} to 0123456789ab (its files or tool versions); those already catalogued by pipeline 0123456789ab are skipped at submit time`,
    });
  });

  it("policy missing after a pipeline change: nothing re-queued; policy all: everything", async () => {
    const missing = await renderDev({ set: { observationIds: FOUR, queuePolicy: "missing" } });
    const m = consequence(base, withPipeline(missing, "0123456789ab"));
    expect(m.id).toBe("no-requeue");
    expect(m.text).toContain("skips any catalogued exposure");
    const all = consequence(base, await renderDev({ set: { observationIds: FOUR, queuePolicy: "all" } }));
    expect(all).toEqual({ id: "requeue-all", text: "every exposure queued again: 4 exposures (canfar:queuePolicy all)" });
  });

  it("a new destination: up to every exposure, named", async () => {
    const c = consequence(base, await renderDev({ set: { observationIds: FOUR, vospace: "vos:astronomer/w3" } }));
    expect(c.text).toBe(`a new batch submission: up to 4 exposures, for the new destination vos:astronomer/w3; those already catalogued by pipeline ${p} are skipped at submit time`);
  });

  it("the first submission: up to all of them", () => {
    const without = base.filter((r) => !r.name.startsWith("batch-"));
    expect(consequence(without, base).text).toBe(`a new batch submission: up to 4 exposures; those already catalogued by pipeline ${p} are skipped at submit time`);
  });

  it("the worker's README is in neither the image's provisioning nor the run directory", () => {
    const files = base.filter((r) => r.type.startsWith("command:remote:") && (r.name.startsWith("provision-copy-") || r.name.startsWith("batch-deliver-"))).map((r) => r.name);
    expect(files.length).toBeGreaterThan(10);
    expect(files.filter((n) => /readme/i.test(n))).toEqual([]);
    expect(files.filter((n) => n.startsWith("batch-deliver-")).sort()).toEqual(RUN_DIR_FILES.map(deliveryName).sort());
  });
});
