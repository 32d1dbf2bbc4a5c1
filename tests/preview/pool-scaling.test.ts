import { describe, expect, it } from "vitest";
import { predict } from "../../tools/preview/predict";
import { renderDev } from "./stack-change";

// The self-hosted example (two workers), scaled: what `npm run preview` shows.
describe("scaling the self-hosted pool, predicted", () => {
  it("a scale-down deletes the highest-numbered worker, its drain (which runs first) and its port, and nothing else", async () => {
    const base = await renderDev({ stack: "self-hosted" });
    const p = predict(base, await renderDev({ stack: "self-hosted", set: { workerCount: 1 } }));
    const changed = p.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`);
    // In the engine's order: the drain (on the submit node) before the server it drains.
    expect(changed).toEqual(["delete pool-workers-1-drain", "delete pool-workers-1-server", "delete pool-workers-1-port"]);
    expect(p.hazards).toEqual([]);
    expect(p.consequences.map((c) => c.text)).toEqual(["drains canfar-batch-self-hosted-worker-1 on the submit node, then deletes them"]);
  }, 120_000);

  it("a scale-up creates only the new worker, its port and its drain", async () => {
    const base = await renderDev({ stack: "self-hosted" });
    const p = predict(base, await renderDev({ stack: "self-hosted", set: { workerCount: 3 } }));
    expect(p.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.name}`).sort()).toEqual(["create pool-workers-2-drain", "create pool-workers-2-port", "create pool-workers-2-server"]);
    expect(p.consequences.map((c) => c.id)).toEqual(["workers-added"]);
  }, 120_000);

  it("a new worker image replaces every worker and its drain (so each is drained first), and keeps the submit node", async () => {
    const base = await renderDev({ stack: "self-hosted" });
    const p = predict(base, await renderDev({ stack: "self-hosted", set: { extraPackages: ["htop"] } }));
    const op = (name: string) => p.steps.find((s) => s.name === name)?.op;
    for (const i of [0, 1]) {
      expect(op(`pool-workers-${i}-server`)).toBe("replace");
      expect(op(`pool-workers-${i}-drain`)).toBe("replace");
    }
    expect(op("pool-submit-server")).toBe("same");
    expect(p.hazards).toEqual([]);
  }, 120_000);
});
