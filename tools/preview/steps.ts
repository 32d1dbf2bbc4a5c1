import { isDeepStrictEqual } from "node:util";
import type { PlannedResource } from "../../offline/capture";
import { withDependentDeletes } from "./delete-first";
import { ruleFor, topLevelKey } from "./provider-rules";

export type { Op, Step } from "./step";
import type { Op, Step } from "./step";

function inputsOf(r: PlannedResource): Record<string, unknown> {
  return (r.inputs ?? {}) as Record<string, unknown>;
}

const parentOf = (r: PlannedResource): { parent?: string } => (r.parent === undefined ? {} : { parent: r.parent });

/** The URN a resource had under one of its aliases (same type, same parent, another name). */
function aliasUrn(urn: string, alias: string): string {
  return `${urn.slice(0, urn.lastIndexOf("::") + 2)}${alias}`;
}

function matches(paths: readonly string[] | undefined, key: string): boolean {
  return (paths ?? []).some((p) => p === "*" || topLevelKey(p) === key);
}

/** The package a resource type belongs to (`openstack`, `command`), whose provider manages it. */
function packageOf(type: string): string {
  return type.split(":", 1)[0] ?? type;
}

/**
 * The steps a `pulumi up` from `base` to `head` takes, resource by resource, as the engine
 * decides them: a changed input is an update unless the provider's schema, the resource's
 * replaceOnChanges or a replaced provider makes it a replacement; an input that comes from a
 * resource being created or replaced is unknown, so it counts as changed; ignoreChanges
 * hides a change. A replacement that deletes first takes down, before it, the dependents it
 * condemns (delete-first.ts). Head resources come in the order the program declared them,
 * which puts every resource after the ones its inputs come from.
 */
export function planSteps(base: readonly PlannedResource[], head: readonly PlannedResource[]): Step[] {
  const byUrn = new Map(base.map((r) => [r.urn, r]));
  const matched = new Set<string>();
  const baseUrnOf = new Map<string, string>();
  const renewed = new Set<string>();
  const replacedProviders = new Set<string>();
  const steps: Step[] = [];

  for (const h of head) {
    const alias = (h.options?.aliases ?? []).map((a) => aliasUrn(h.urn, a)).find((u) => byUrn.has(u) && !head.some((x) => x.urn === u));
    const b = byUrn.get(h.urn) ?? (alias ? byUrn.get(alias) : undefined);
    const newInputs = inputsOf(h);
    if (!b) {
      renewed.add(h.urn);
      steps.push({ op: "create", urn: h.urn, type: h.type, name: h.name, ...parentOf(h), diffReasons: [], replaceReasons: [], deleteBeforeReplace: null, newInputs });
      continue;
    }
    matched.add(b.urn);
    baseUrnOf.set(h.urn, b.urn);
    const oldInputs = inputsOf(b);
    const unknown = Object.entries(h.propertyDependencies ?? {})
      .filter(([, urns]) => urns.some((u) => renewed.has(u)))
      .map(([key]) => key);
    const diffReasons = [...new Set([...Object.keys(oldInputs), ...Object.keys(newInputs)])]
      .filter((key) => !matches(h.options?.ignoreChanges, key))
      .filter((key) => unknown.includes(key) || !isDeepStrictEqual(oldInputs[key], newInputs[key]))
      .sort();
    const rule = ruleFor(h.type);
    const providerReplaced = replacedProviders.has(packageOf(h.type)) && !h.type.startsWith("pulumi:providers:");
    const replaceReasons = [
      ...(providerReplaced ? ["provider"] : []),
      ...diffReasons.filter((key) => (rule?.forceNew ?? []).includes(key) || matches(h.options?.replaceOnChanges, key)),
    ];
    // A provider's own configuration: see ENGINE_RULES (a changed provider replaces what it manages).
    if (h.type.startsWith("pulumi:providers:") && diffReasons.length > 0) replaceReasons.push(...diffReasons);
    const op: Op = replaceReasons.length > 0 ? "replace" : diffReasons.length > 0 ? "update" : "same";
    if (op === "replace") {
      renewed.add(h.urn);
      if (h.type.startsWith("pulumi:providers:")) replacedProviders.add(h.type.slice("pulumi:providers:".length));
    }
    const named = typeof newInputs.name === "string";
    const deleteBeforeReplace = op === "replace" ? (h.options?.deleteBeforeReplace ?? (rule?.deleteFirstWhenNamed === true && named)) : null;
    steps.push({
      op,
      urn: h.urn,
      type: h.type,
      name: h.name,
      ...parentOf(h),
      diffReasons,
      replaceReasons: [...new Set(replaceReasons)],
      deleteBeforeReplace,
      oldInputs,
      newInputs,
      ...(unknown.length > 0 && op !== "same" ? { unknownInputs: unknown.filter((k) => diffReasons.includes(k)) } : {}),
    });
  }
  const planned = withDependentDeletes(steps, base, baseUrnOf);
  // Deletes in reverse order of declaration, as the engine runs them: a dependent (a worker's
  // drain) before what it depends on (the worker's server).
  for (const b of [...base].reverse()) {
    if (matched.has(b.urn)) continue;
    planned.push({ op: "delete", urn: b.urn, type: b.type, name: b.name, ...parentOf(b), diffReasons: [], replaceReasons: [], deleteBeforeReplace: null, oldInputs: inputsOf(b) });
  }
  return planned;
}

/** How many steps of each kind, as `changeSummary` of `pulumi preview --json`. */
export function changeSummary(steps: readonly Step[]): Record<string, number> {
  const summary: Record<string, number> = {};
  for (const s of steps) summary[s.op] = (summary[s.op] ?? 0) + 1;
  return summary;
}
