import type { PlannedResource } from "../../offline/capture";
import { consequences } from "./consequences";
import type { Prediction } from "./format";
import { findHazards } from "./hazards";
import { planSteps, type Step } from "./steps";

/** Everything `npm run preview` says about steps, whichever way they were found. */
export function describeSteps(steps: Step[], source: string): Prediction {
  return { steps, consequences: consequences(steps), hazards: findHazards(steps), source };
}

/** The prediction for going from one render's resources to another's. */
export function predict(base: readonly PlannedResource[], head: readonly PlannedResource[], source = "offline prediction"): Prediction {
  return describeSteps(planSteps(base, head), source);
}

/** The exit code a prediction gives: 3 when any step is unsafe. */
export function exitCodeOf(p: Prediction): 0 | 3 {
  return p.hazards.length > 0 ? 3 : 0;
}
