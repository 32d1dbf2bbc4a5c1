import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Action, planHash, PROVISIONING_DIR, provisioningPlan, RunAction } from "../../build/provisioning-plan";
import { shellQuote } from "../../lib/shell-quote";

const CTX = { defaultUser: "ubuntu", cadcUser: "astronomer", scratchDevice: "/dev/vdb" };
const runs = (actions: Action[]) => actions.filter((a): a is RunAction => a.kind === "run");
const byId = (actions: Action[]) => new Map(actions.map((a) => [a.id, a]));

/** Every action that must have finished before `id`, following `after` edges. */
function prerequisites(actions: Action[], id: string): Set<string> {
  const ids = byId(actions);
  const seen = new Set<string>();
  const visit = (x: string) => {
    for (const dep of ids.get(x)?.after ?? []) if (!seen.has(dep)) (seen.add(dep), visit(dep));
  };
  visit(id);
  return seen;
}

describe("provisioning plan", () => {
  const plan = provisioningPlan(CTX);

  it("runs the steps in the issue's order: cloud-init, user, scratch, credentials, pipeline, smoke test", () => {
    expect(runs(plan).filter((r) => !r.id.startsWith("stage-")).map((r) => r.id)).toEqual([
      "wait-cloud-init",
      "create-user",
      "setup-scratch",
      "cadc-credentials",
      "install-pipeline",
      "smoke-test",
    ]);
  });

  it("lists actions in an order that satisfies every dependency, each run after the previous one", () => {
    const seen = new Set<string>();
    for (const a of plan) {
      for (const dep of a.after) expect(seen.has(dep), `${a.id} after ${dep}`).toBe(true);
      seen.add(a.id);
    }
    const steps = runs(plan);
    steps.slice(1).forEach((r, i) => expect(prerequisites(plan, r.id).has(steps[i].id), `${r.id} after ${steps[i].id}`).toBe(true));
  });

  it("runs the system steps as the default user with sudo, the CADC ones as the CADC user", () => {
    const ids = byId(plan);
    const run = (id: string) => ids.get(id) as RunAction;
    expect([run("create-user").login, run("create-user").command]).toEqual([
      "ubuntu",
      "sudo -n 'bash' '/home/ubuntu/.canfar-batch/provisioning/create-user.sh' 'astronomer'",
    ]);
    expect(run("cadc-credentials").login).toBe("astronomer");
    expect(run("smoke-test").login).toBe("astronomer");
    expect(run("stage-astronomer").after).toEqual(["setup-scratch"]);
  });

  it("passes the CADC password only on stdin, to the credentials step", () => {
    expect(plan.filter((a) => a.kind === "run" && a.stdin).map((a) => [a.id, (a as RunAction).stdin])).toEqual([["cadc-credentials", "cadcPassword"]]);
  });

  it("delivers each file a step names before the step runs", () => {
    for (const r of runs(plan).filter((r) => !r.id.startsWith("stage-"))) {
      const before = prerequisites(plan, r.id);
      for (const path of r.command.match(/\/home\/[^']+/g) ?? []) {
        const copies = plan.filter((a) => a.kind === "copy" && (a.remote === path || a.remote.startsWith(`${path}/`)));
        expect(copies.length, `${r.id} uses ${path}`).toBeGreaterThan(0);
        for (const c of copies) expect(before.has(c.id), `${r.id} after ${c.id}`).toBe(true);
      }
    }
  });

  it("keeps the smoke sample out of the installed pipeline", () => {
    const pipelineCopies = plan.filter((a) => a.kind === "copy" && a.login === "ubuntu" && a.remote.includes("/pipeline/"));
    expect(pipelineCopies.length).toBeGreaterThan(0);
    expect(pipelineCopies.filter((c) => c.kind === "copy" && c.remote.includes("/smoke/"))).toEqual([]);
  });
});

describe("re-run triggers", () => {
  const root = mkdtempSync(join(tmpdir(), "plan-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  cpSync(PROVISIONING_DIR, root, { recursive: true });

  it("are stable when nothing changed", () => {
    expect(provisioningPlan(CTX, root).map((a) => a.hash)).toEqual(provisioningPlan(CTX).map((a) => a.hash));
  });

  it("re-run a changed step and every step after it, nothing before it", () => {
    const before = new Map(runs(provisioningPlan(CTX, root)).map((r) => [r.id, r.hash]));
    appendFileSync(join(root, "build-vm", "setup-scratch.sh"), "\n# changed\n");
    const after = runs(provisioningPlan(CTX, root));
    const changed = after.filter((r) => r.hash !== before.get(r.id)).map((r) => r.id);
    expect(changed).toEqual(["setup-scratch", "stage-astronomer", "cadc-credentials", "install-pipeline", "smoke-test"]);
    expect(planHash(after)).not.toBe(planHash(provisioningPlan(CTX)));
  });

  it("leave out the docs: a README edited under a staged folder changes no hash, so no image", () => {
    const before = provisioningPlan(CTX, root);
    expect(before.filter((a) => a.kind === "copy" && a.local.endsWith(".md"))).toEqual([]);
    appendFileSync(join(root, "worker", "README.md"), "\nA typo fixed.\n");
    const after = provisioningPlan(CTX, root);
    expect(after.map((a) => a.hash)).toEqual(before.map((a) => a.hash));
    expect(planHash(after)).toBe(planHash(before));
  });

  it("re-run from the user step when the CADC user changes", () => {
    const other = runs(provisioningPlan({ ...CTX, cadcUser: "other" }));
    const base = new Map(runs(provisioningPlan(CTX)).map((r) => [r.id, r.hash]));
    expect(other.filter((r) => r.hash === base.get(r.id)).map((r) => r.id)).toEqual(["stage-ubuntu", "wait-cloud-init"]);
  });
});

describe("shellQuote", () => {
  it.each(["plain", "it's", "a b", "$(touch /tmp/pwned)", "`x`", "\"q\"", "back\\slash", ""])("round-trips %j through a real sh", (value) => {
    expect(execFileSync("sh", ["-c", `printf %s ${shellQuote(value)}`], { encoding: "utf8" })).toBe(value);
  });
});
