import type { Op, Step } from "./steps";

/**
 * Reads what `pulumi preview --json` prints (pkg/display/json.go: PreviewDigest with
 * steps[].op, urn, oldState, newState, diffReasons, replaceReasons) into the same steps the
 * offline prediction gives, so one formatter serves both. Run it with
 * `--show-replacement-steps`: the order of `delete-replaced` and `create-replacement` is
 * the only place its JSON says whether a replacement deletes first.
 *
 * A replacement's reasons are not always on its `replace` step: a resource re-created because
 * a delete-first replacement took it down has them only on its `create-replacement` step
 * (step_generator.go L1853-1862), and the command provider's replaceOnChanges shows only in
 * `detailedDiff` (`"triggers[0]": {"kind": "update-replace"}`). They are read from the first
 * of these that has any.
 */

interface EngineState {
  type?: string;
  parent?: string;
  inputs?: Record<string, unknown>;
}

interface EngineStep {
  op?: string;
  urn?: string;
  oldState?: EngineState;
  newState?: EngineState;
  diffReasons?: string[];
  replaceReasons?: string[];
  /** Property path → how it changes; a kind ending in `-replace` forces the replacement. */
  detailedDiff?: Record<string, { kind?: string }> | null;
}

/** The engine's "unknown" sentinel in --json output. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const LOGICAL: Record<string, Op> = { same: "same", create: "create", update: "update", replace: "replace", delete: "delete" };

export class EngineJsonError extends Error {}

/** `triggers[0]`, `environment.PACKAGES` → the input the path starts with. */
const inputOf = (path: string) => path.split(/[.[]/, 1)[0] ?? path;

function fromDetailedDiff(s: EngineStep, replacing: boolean): string[] {
  return Object.entries(s.detailedDiff ?? {})
    .filter(([, d]) => !replacing || (d.kind ?? "").endsWith("-replace"))
    .map(([path]) => inputOf(path));
}

/** The first non-empty list of reasons among a resource's steps, the logical step's first. */
function reasons(steps: readonly EngineStep[], read: (s: EngineStep) => string[] | undefined): string[] {
  for (const s of steps) {
    const found = read(s) ?? [];
    if (found.length > 0) return [...new Set(found)];
  }
  return [];
}

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
  const byUrn = new Map<string, EngineStep[]>();
  for (const s of engineSteps) {
    if (!s.urn || !s.op) continue;
    order.set(s.urn, [...(order.get(s.urn) ?? []), s.op]);
    byUrn.set(s.urn, [...(byUrn.get(s.urn) ?? []), s]);
  }

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
    const parent = s.newState?.parent ?? s.oldState?.parent;
    const unknownInputs = Object.entries(newInputs ?? {})
      .filter(([, v]) => JSON.stringify(v).includes(UNKNOWN))
      .map(([k]) => k);
    // This step first, then its create-replacement and delete-replaced steps.
    const own = [s, ...(byUrn.get(s.urn) ?? []).filter((x) => x !== s && (x.op === "create-replacement" || x.op === "delete-replaced"))];
    const replacing = op === "replace";
    const either = (listed: string[], fromDiff: () => string[]) => (listed.length > 0 ? listed : fromDiff());
    steps.push({
      op,
      urn: s.urn,
      type: s.newState?.type ?? s.oldState?.type ?? type,
      name,
      ...(parent === undefined ? {} : { parent }),
      diffReasons: replacing ? either(reasons(own, (x) => x.diffReasons), () => reasons(own, (x) => fromDetailedDiff(x, false))) : (s.diffReasons ?? []),
      replaceReasons: replacing ? either(reasons(own, (x) => x.replaceReasons), () => reasons(own, (x) => fromDetailedDiff(x, true))) : (s.replaceReasons ?? []),
      deleteBeforeReplace: op === "replace" && deleteFirst >= 0 && createNew >= 0 ? deleteFirst < createNew : null,
      ...(s.oldState?.inputs ? { oldInputs: s.oldState.inputs } : {}),
      ...(newInputs ? { newInputs } : {}),
      ...(unknownInputs.length > 0 ? { unknownInputs } : {}),
    });
  }
  return steps;
}
