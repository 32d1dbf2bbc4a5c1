/** The shape of one step of a plan, shared by the prediction and the delete-first rule. */
export type Op = "same" | "create" | "update" | "replace" | "delete";

/** One step the engine will take, in the shape of a `pulumi preview --json` step. */
export interface Step {
  op: Op;
  urn: string;
  type: string;
  name: string;
  /** The URN of the component it was declared in: its name is the first part of this one's (component-step.ts). */
  parent?: string;
  /** Inputs that differ (or will be unknown until a dependency is replaced). */
  diffReasons: string[];
  /** The subset of diffReasons that forces a new resource. */
  replaceReasons: string[];
  /** For a replace: whether the old resource goes first; null when not known (a real preview's JSON). */
  deleteBeforeReplace: boolean | null;
  /** Inputs before and after, where known, for the hazard checks. */
  oldInputs?: Record<string, unknown>;
  newInputs?: Record<string, unknown>;
  /** Inputs whose new value is not known before `up` (they come from a replaced resource). */
  unknownInputs?: string[];
}
