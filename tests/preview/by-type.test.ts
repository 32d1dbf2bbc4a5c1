import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { ACCESS_NETWORK_TYPE } from "../../build/access-network";
import { BUILD_VM_TYPE } from "../../build/build-vm";
import { PROVISIONING_TYPE } from "../../build/provisioning";
import { BATCH_SUBMISSION_TYPE } from "../../batch/batch-submission";
import { SNAPSHOT_TYPE } from "../../image/snapshot";
import { SUBMIT_NODE_TYPE } from "../../pool/submit-node";
import { WORKER_GROUP_TYPE } from "../../pool/worker-group";
import { parentType } from "../../tools/preview/component-step";
import { consequences } from "../../tools/preview/consequences";
import { stepsFromEngineJson } from "../../tools/preview/engine-json";
import { planSteps, type Step } from "../../tools/preview/steps";
import { ENGINE_PREVIEW } from "./engine-fixture";
import { CHANGES } from "./key-changes";
import { renderDev } from "./stack-change";

// The preview knows a step by the type of the component holding it and its id there, not by
// the names index.ts gives: renaming every resource and component keeps every consequence,
// and the same names under another component type make none.

/** urn:pulumi:STACK::PROJECT::TYPES::NAME, in its parts. */
function urnParts(urn: string): { head: string; types: string[]; name: string } {
  const [stack = "", project = "", types = "", ...name] = urn.split("::");
  return { head: `${stack}::${project}`, types: types.split("$"), name: name.join("::") };
}

function rebuild(urn: string, change: (p: { types: string[]; name: string }) => { types: string[]; name: string }): string {
  const p = urnParts(urn);
  const next = change(p);
  return `${p.head}::${next.types.join("$")}::${next.name}`;
}

/** Every resource, component and the stack renamed by `rename`, in names, URNs and parents alike; types kept. */
function renamed(steps: readonly Step[], rename: (name: string) => string): Step[] {
  const urn = (u: string) => rebuild(u, ({ types, name }) => ({ types, name: rename(name) }));
  return steps.map((s) => ({ ...s, urn: urn(s.urn), name: rename(s.name), ...(s.parent === undefined ? {} : { parent: urn(s.parent) }) }));
}

/** Every component of type `from` made one of type `to`: its URN, its children's type chains and parents; names kept. */
function retyped(steps: readonly Step[], from: string, to: string): Step[] {
  const urn = (u: string) => rebuild(u, ({ types, name }) => ({ types: types.map((t) => (t === from ? to : t)), name }));
  return steps.map((s) => ({ ...s, urn: urn(s.urn), type: s.type === from ? to : s.type, ...(s.parent === undefined ? {} : { parent: urn(s.parent) }) }));
}

/** The edits whose predictions, both ways, make every consequence the preview knows (with "no batch host" below). */
const EDITS = ["cloud", "network", "cadcPassword", "vospace", "queuePolicy", "keepImageOnDestroy", "deleteBuildVmAfterSnapshot", "batchSystem", "workerCount", "poolPassword"];

/** What each component type's steps say, by consequence id (a prefix for provisioning's). */
const BY_TYPE: Record<string, string[]> = {
  [ACCESS_NETWORK_TYPE]: ["ssh-rules-changed", "new-port", "new-address", "address-moved"],
  [BUILD_VM_TYPE]: ["build-vm-replaced"],
  [PROVISIONING_TYPE]: ["starts-build-vm", "provisioning-from:", "provisioning-steps:"],
  [SNAPSHOT_TYPE]: ["new-image", "image-deleted-on-destroy", "image-kept-on-destroy", "deletes-build-vm", "keeps-build-vm"],
  [BATCH_SUBMISSION_TYPE]: ["new-certificate", "resubmit-same", "no-submission", "new-submission", "requeue-all", "no-requeue"],
  [SUBMIT_NODE_TYPE]: ["pool-created", "submit-node-replaced"],
  [WORKER_GROUP_TYPE]: ["workers-added", "workers-drained-removed", "workers-replaced"],
};

const ids = (steps: readonly Step[]) => consequences(steps).map((c) => c.id);
const matches = (id: string, known: string) => (known.endsWith(":") ? id.startsWith(known) : id === known);

describe("the preview knows the program by type, not by names", () => {
  const predictions = new Map<string, Step[]>();

  beforeAll(async () => {
    const bases = { dev: await renderDev(), "self-hosted": await renderDev({ stack: "self-hosted" }) };
    for (const key of EDITS) {
      const edit = CHANGES[key];
      if (edit === undefined) throw new Error(`no change of canfar:${key} in key-changes.ts`);
      const base = bases[edit.stack ?? "dev"];
      const head = await renderDev(edit);
      predictions.set(key, planSteps(base, head));
      predictions.set(`${key}, undone`, planSteps(head, base));
    }
    // No batch host: the submission goes.
    predictions.set("no batch host", planSteps(bases.dev, await renderDev({ remove: ["batchHost", "batchHostKey"] })));
    predictions.set("the engine's own preview", stepsFromEngineJson(readFileSync(ENGINE_PREVIEW, "utf8"), ENGINE_PREVIEW));
  }, 300_000);

  it("the predictions between them make every consequence each component type stands for", () => {
    const made = [...predictions.values()].flatMap(ids);
    for (const known of Object.values(BY_TYPE).flat()) expect(made.some((id) => matches(id, known)), known).toBe(true);
    expect(made).toContain("recreated-everything");
    expect(made).toContain("new-key-pair");
  });

  it("every step in a component carries the URN of the component it was declared in", () => {
    for (const [what, steps] of predictions) {
      const inComponents = steps.filter((s) => parentType(s.urn) !== undefined);
      expect(inComponents.length, what).toBeGreaterThan(0);
      expect(inComponents.filter((s) => s.parent === undefined).map((s) => s.name), what).toEqual([]);
    }
  });

  it("renaming every resource and component changes no consequence", () => {
    for (const [what, steps] of predictions) {
      const x = renamed(steps, (name) => `x${name}`);
      expect(x.some((s) => steps.some((o) => o.urn === s.urn || o.name === s.name)), what).toBe(false);
      expect(consequences(x), what).toEqual(consequences(steps));
    }
  });

  it("renaming the components to words index.ts never uses changes no consequence", () => {
    const words: Record<string, string> = { build: "vm", provision: "setup", "worker-image": "snap", batch: "jobs", access: "net", "pool-submit": "head", "pool-workers": "nodes", key: "kp" };
    const rename = (name: string) => name.replace(/^(build|provision|worker-image|batch|access|pool-submit|pool-workers|key)\b/, (c) => words[c] ?? c);
    for (const [what, steps] of predictions) {
      const other = renamed(steps, rename);
      expect(other.filter((s) => /^(build|provision|worker-image|batch|access|pool-submit|pool-workers|key)\b/.test(s.name)), what).toEqual([]);
      expect(consequences(other), what).toEqual(consequences(steps));
    }
  });

  for (const [type, known] of Object.entries(BY_TYPE)) {
    it(`the same names under another component type than ${type} say none of ${known.join(", ")}`, () => {
      let seen = 0;
      for (const [what, steps] of predictions) {
        const before = ids(steps).filter((id) => known.some((k) => matches(id, k)));
        seen += before.length;
        const after = ids(retyped(steps, type, "canfar:index:Elsewhere")).filter((id) => known.some((k) => matches(id, k)));
        expect(after, what).toEqual([]);
      }
      expect(seen).toBeGreaterThan(0);
    });
  }

  it("the submit node's own address is not the build VM's", () => {
    const pool = predictions.get("batchSystem") ?? [];
    expect(pool.some((s) => s.op === "create" && s.name.startsWith("pool-submit-access-"))).toBe(true);
    expect(ids(pool)).not.toContain("ssh-rules-changed");
  });
});
