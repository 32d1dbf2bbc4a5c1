import type { EffectKind } from "../../config/change-effects";
import { BATCH_SUBMISSION_STEPS, BATCH_SUBMISSION_TYPE } from "../../batch/batch-submission";
import { EXPOSURES_FILE } from "../../domain/exposure-list";
import { SNAPSHOT_STEPS, SNAPSHOT_TYPE } from "../../image/snapshot";
import { isStep } from "./component-step";
import type { Step } from "./steps";

/**
 * What a new submission will cost, in exposures (a BatchSubmission's submit step). submit.sh
 * decides at submit time from one listing of the destination, so the preview can only bound
 * it: from the campaign's exposures (exposures.txt's delivery), the pipeline identity, the
 * destination and the policy (submit.sh's arguments), before and after.
 */
const REMOTE = "command:remote:Command";
const isSubmit = (s: Step) => s.type === REMOTE && isStep(s, BATCH_SUBMISSION_TYPE, BATCH_SUBMISSION_STEPS.submit);
const isExposures = (s: Step) => s.type === REMOTE && isStep(s, BATCH_SUBMISSION_TYPE, BATCH_SUBMISSION_STEPS.deliver(EXPOSURES_FILE));
const isImage = (s: Step) => isStep(s, SNAPSHOT_TYPE, SNAPSHOT_STEPS.image);

interface Campaign {
  ids: string[];
  pipeline: string;
  destination: string;
  policy: string;
}

/** The campaign a submit step and the exposures' delivery declare, or undefined where unknown (an engine preview, an older render). */
function campaignOf(submit: Record<string, unknown> | undefined, exposures: Record<string, unknown> | undefined): Campaign | undefined {
  const create = submit?.create;
  const list = exposures?.stdin;
  if (typeof create !== "string" || typeof list !== "string") return undefined;
  const pipeline = /--pipeline ([0-9a-f]{12})\b/.exec(create)?.[1];
  const destination = /--dest '([^']*)'/.exec(create)?.[1];
  const policy = /--policy ([a-z]+)\b/.exec(create)?.[1];
  if (pipeline === undefined || destination === undefined || policy === undefined) return undefined;
  return { ids: list.split("\n").filter((l) => l !== ""), pipeline, destination, policy };
}

const exposures = (n: number) => `${n} exposure${n === 1 ? "" : "s"}`;

/** The consequence of a new run directory (a created or replaced submit step); nothing otherwise. */
export function campaignConsequence(steps: readonly Step[]): { id: EffectKind; text: string } | undefined {
  const submit = steps.find(isSubmit);
  if (!submit || (submit.op !== "create" && submit.op !== "replace")) return undefined;
  const list = steps.find(isExposures);
  const head = campaignOf(submit.newInputs, list?.newInputs);
  if (head === undefined) return { id: "new-submission", text: "a new batch submission, in a new run directory (how many exposures it queues is decided at submit time)" };
  const skipped = `those already catalogued by pipeline ${head.pipeline} are skipped at submit time`;
  const base = submit.op === "replace" ? campaignOf(submit.oldInputs, list?.oldInputs) : undefined;
  if (base === undefined) return { id: "new-submission", text: `a new batch submission: up to ${exposures(head.ids.length)}; ${skipped}` };
  if (head.policy === "all") return { id: "requeue-all", text: `every exposure queued again: ${exposures(head.ids.length)} (canfar:queuePolicy all)` };
  if (head.destination !== base.destination) {
    return { id: "new-submission", text: `a new batch submission: up to ${exposures(head.ids.length)}, for the new destination ${head.destination}; ${skipped}` };
  }
  if (head.pipeline !== base.pipeline && head.policy === "changed") {
    return {
      id: "requeue-all",
      text: `up to ${exposures(head.ids.length)} queued again: the pipeline identity changes from ${base.pipeline} to ${head.pipeline} (its files or tool versions); ${skipped}`,
    };
  }
  const known = new Set(base.ids);
  const added = head.ids.filter((id) => !known.has(id)).length;
  const skippedByPolicy = head.policy === "missing" ? "those with a catalogue by any pipeline are skipped at submit time" : skipped;
  if (added > 0) return { id: "new-submission", text: `a new batch submission: up to ${added} new exposure${added === 1 ? "" : "s"}; ${skippedByPolicy}` };
  // The offline render cannot know a new image's tool versions: say what would change that.
  const image = steps.find(isImage);
  const caveat = image && (image.op === "create" || image.op === "replace") ? "; a new image with other source-extractor or funpack versions would change the identity, and queue them all again" : "";
  return {
    id: "no-requeue",
    text: `no exposure re-queued: pipeline ${head.pipeline} is unchanged, so submit.sh, in a new run directory, skips ${head.policy === "missing" ? "any catalogued exposure" : "every exposure it catalogued"} (only those not yet catalogued are queued)${caveat}`,
  };
}
