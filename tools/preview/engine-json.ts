import type { Op, Step } from "./steps";

/**
 * Reads what `pulumi preview --json` prints (pkg/display/json.go: PreviewDigest with
 * steps[].op, urn, oldState, newState, diffReasons, replaceReasons) into the same steps the
 * offline prediction gives, so one formatter serves both. Run it with
 * `--show-replacement-steps`: the order of `delete-replaced` and `create-replacement` is
 * the only place its JSON says whether a replacement deletes first.
 */

interface EngineState {
  type?: string;
  inputs?: Record<string, unknown>;
}

interface EngineStep {
  op?: string;
  urn?: string;
  oldState?: EngineState;
  newState?: EngineState;
  diffReasons?: string[];
  replaceReasons?: string[];
}

/** The engine's "unknown" sentinel in --json output. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const LOGICAL: Record<string, Op> = { same: "same", create: "create", update: "update", replace: "replace", delete: "delete" };

export class EngineJsonError extends Error {}

/** `urn:pulumi:stack::project::parent$type::name` → type and name. */
function typeAndName(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  const name = parts[parts.length - 1] ?? urn;
  const types = parts[parts.length - 2] ?? "";
  return { type: types.split("$").pop() ?? types, name };
}

export function stepsFromEngineJson(text: string, source: string): Step[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new EngineJsonError(`${source}: not JSON (${(err as Error).message}); expected the output of \`pulumi preview --json\``);
  }
  const raw = (doc as { steps?: unknown } | null)?.steps;
  if (raw !== undefined && !Array.isArray(raw)) throw new EngineJsonError(`${source}: 'steps' must be a list`);
  const engineSteps = (raw ?? []) as EngineStep[];
  const order = new Map<string, string[]>();
  for (const s of engineSteps) if (s.urn && s.op) order.set(s.urn, [...(order.get(s.urn) ?? []), s.op]);

  const steps: Step[] = [];
  for (const [i, s] of engineSteps.entries()) {
    if (typeof s.urn !== "string" || typeof s.op !== "string") throw new EngineJsonError(`${source}: steps[${i}] has no 'op' and 'urn'`);
    const op = LOGICAL[s.op];
    if (!op) continue; // create-replacement, delete-replaced, read, refresh: folded into their logical step
    const ops = order.get(s.urn) ?? [];
    const deleteFirst = ops.indexOf("delete-replaced");
    const createNew = ops.indexOf("create-replacement");
    const { type, name } = typeAndName(s.urn);
    const newInputs = s.newState?.inputs;
    const unknownInputs = Object.entries(newInputs ?? {})
      .filter(([, v]) => JSON.stringify(v).includes(UNKNOWN))
      .map(([k]) => k);
    steps.push({
      op,
      urn: s.urn,
      type: s.newState?.type ?? s.oldState?.type ?? type,
      name,
      diffReasons: s.diffReasons ?? [],
      replaceReasons: s.replaceReasons ?? [],
      deleteBeforeReplace: op === "replace" && deleteFirst >= 0 && createNew >= 0 ? deleteFirst < createNew : null,
      ...(s.oldState?.inputs ? { oldInputs: s.oldState.inputs } : {}),
      ...(newInputs ? { newInputs } : {}),
      ...(unknownInputs.length > 0 ? { unknownInputs } : {}),
    });
  }
  return steps;
}
