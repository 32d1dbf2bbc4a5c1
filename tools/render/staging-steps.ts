import { PROVISIONING_TYPE } from "../../build/provisioning";
import { isCopyStep, isStageStep } from "../../build/provisioning-plan";
import type { PlannedResource } from "../../offline/capture";
import { stepIn } from "../preview/component-step";

/** The resources with copies folded in, and how many copies each staging step took. */
export interface StagingSteps {
  resources: PlannedResource[];
  copies: ReadonlyMap<string, PlannedResource[]>;
}

/**
 * The provisioning plan copies each file a login's steps need on its own, all waiting for
 * that login's staging step and nothing else: a box per file says nothing a reader needs
 * (what is in the image is the plan's business) and drowns the steps. Each copy is folded
 * into its staging step: it leaves the list, and whatever waited for it waits for the
 * staging step instead. Copies and staging steps are known by the Provisioning component
 * holding them and their ids in it (PLAN_STEPS), not by the names index.ts gives.
 */
export function foldStagingCopies(resources: readonly PlannedResource[]): StagingSteps {
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const isStage = (urn: string, parent: string | undefined): boolean => {
    const r = byUrn.get(urn);
    const id = r ? stepIn(r, PROVISIONING_TYPE) : undefined;
    return r?.parent === parent && id !== undefined && isStageStep(id);
  };
  const into = new Map<string, string>();
  const copies = new Map<string, PlannedResource[]>();
  for (const r of resources) {
    const id = stepIn(r, PROVISIONING_TYPE);
    if (id === undefined || !isCopyStep(id)) continue;
    const stage = r.dependencies.find((d) => isStage(d, r.parent));
    if (stage === undefined) continue;
    into.set(r.urn, stage);
    copies.set(stage, [...(copies.get(stage) ?? []), r]);
  }
  const redirect = (urns: readonly string[], self: string) => [...new Set(urns.map((u) => into.get(u) ?? u))].filter((u) => u !== self);
  const kept = resources
    .filter((r) => !into.has(r.urn))
    // The picture reads dependencies only, so property dependencies are left as they were.
    .map((r) => ({ ...r, dependencies: redirect(r.dependencies, r.urn) }));
  return { resources: kept, copies };
}
