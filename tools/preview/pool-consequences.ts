import type { EffectKind } from "../../config/change-effects";
import { SUBMIT_NODE_STEPS, SUBMIT_NODE_TYPE } from "../../pool/submit-node";
import { WORKER_GROUP_STEPS, WORKER_GROUP_TYPE } from "../../pool/worker-group";
import { isStep, stepIn } from "./component-step";
import type { Step } from "./steps";

/**
 * What a set of steps means for the self-hosted pool (a SubmitNode and a WorkerGroup): the
 * pool appearing, its submit node replaced, workers added, drained and removed, or replaced
 * (each drained first: its drain command is replaced with it, and the drain's delete runs
 * before the server's).
 */
const INSTANCE = "openstack:compute/instance:Instance";

/** A worker's server: the WorkerGroup's `<index>-server`, whatever the index. */
function isWorkerServer(s: Step): boolean {
  const id = stepIn(s, WORKER_GROUP_TYPE);
  return id !== undefined && id === WORKER_GROUP_STEPS.server(Number.parseInt(id, 10));
}

export function poolConsequences(steps: readonly Step[]): Array<{ id: EffectKind; text: string }> {
  const out: Array<{ id: EffectKind; text: string }> = [];
  const servers = steps.filter((s) => s.type === INSTANCE);
  const submit = servers.find((s) => isStep(s, SUBMIT_NODE_TYPE, SUBMIT_NODE_STEPS.server));
  const workers = servers.filter(isWorkerServer);
  const named = (ws: Step[]) => ws.map((w) => String((w.newInputs ?? w.oldInputs)?.name)).join(", ");
  if (submit?.op === "create") {
    out.push({ id: "pool-created", text: `the stack's own pool is created: a submit node and ${workers.length} worker(s)` });
    return out;
  }
  if (submit?.op === "replace") out.push({ id: "submit-node-replaced", text: `replaces the submit node (${submit.replaceReasons.join(", ")}): the queue on the old one goes with it` });
  const added = workers.filter((w) => w.op === "create");
  if (added.length > 0) out.push({ id: "workers-added", text: `adds workers ${named(added)}` });
  const removed = workers.filter((w) => w.op === "delete");
  if (removed.length > 0) out.push({ id: "workers-drained-removed", text: `drains ${named(removed)} on the submit node, then deletes them` });
  const replaced = workers.filter((w) => w.op === "replace");
  if (replaced.length > 0) out.push({ id: "workers-replaced", text: `replaces workers ${named(replaced)} (${[...new Set(replaced.flatMap((w) => w.replaceReasons))].join(", ")}), each drained first` });
  return out;
}
