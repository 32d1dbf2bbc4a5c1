import type { PlannedResource } from "../../offline/capture";
import { ruleFor, topLevelKey } from "./provider-rules";
import type { Step } from "./step";

/**
 * The engine's rule for a replacement that deletes first (pulumi/pulumi
 * pkg/resource/deploy/step_generator.go at 1b594989, L2047-2135 and
 * calculateDependentReplacements L3268-3410; DependencyGraph.DependingOn in
 * pkg/resource/graph/dependency_graph.go): before it deletes the old resource, it deletes
 * every dependent that a new copy of it would replace, whatever that dependent's own
 * deleteBeforeReplace says, and later creates each one again ("re-create replaced resource
 * deleted due to dependent DBR", L1853-1862). So a build server replaced delete-first takes
 * its whole provisioning chain down before it, dependents first.
 *
 * Which dependents: the engine walks the old state's resources after the root in their
 * order (a topological one) and keeps those that depend on the root or on one already kept
 * (dependsOn, property dependencies, provider). Of those it deletes the custom resources
 * that its replace set would replace: one whose provider is in the set, or one whose inputs
 * from the set, made unknown and diffed against the old inputs (everything else as before),
 * force a replacement (the provider's ForceNew, or replaceOnChanges). An input's new known
 * value plays no part: a command whose `triggers` changed only through new content is not
 * in the set, and keeps its own create-first replacement.
 */

/** A dependent the engine deletes before the root, with the inputs that condemned it. */
export interface DependentReplacement {
  urn: string;
  /** The replace keys the engine gives its create-replacement step (empty for a replaced provider). */
  keys: string[];
}

const PROVIDER = "pulumi:providers:";

function packageOf(type: string): string {
  return type.split(":", 1)[0] ?? type;
}

function replacesOnChange(r: PlannedResource, key: string): boolean {
  const rule = ruleFor(r.type);
  if ((rule?.forceNew ?? []).includes(key)) return true;
  return (r.options?.replaceOnChanges ?? []).some((p) => p === "*" || topLevelKey(p) === key);
}

function ignored(r: PlannedResource, key: string): boolean {
  return (r.options?.ignoreChanges ?? []).some((p) => p === "*" || topLevelKey(p) === key);
}

/** The provider resource (by URN) in `urns` that manages `r`, if any: the default or an explicit one of its package. */
function providerIn(r: PlannedResource, urns: ReadonlySet<string>, base: readonly PlannedResource[]): boolean {
  if (r.type.startsWith(PROVIDER)) return false;
  const pkg = packageOf(r.type);
  return base.some((p) => urns.has(p.urn) && p.type === `${PROVIDER}${pkg}`);
}

/**
 * The dependents of `root` (a resource of `base`, the old state) that the engine deletes
 * before it when `root` is replaced delete-first, in dependency order (the engine deletes
 * them in the reverse of this order, then the root).
 */
export function dependentReplacements(base: readonly PlannedResource[], rootUrn: string): DependentReplacement[] {
  const start = base.findIndex((r) => r.urn === rootUrn);
  if (start < 0) return [];
  const dependents = new Set<string>([rootUrn]);
  const replaceSet = new Set<string>([rootUrn]);
  const out: DependentReplacement[] = [];
  for (const r of base.slice(start + 1)) {
    const edges = [...r.dependencies, ...Object.values(r.propertyDependencies ?? {}).flat()];
    if (!edges.some((u) => dependents.has(u)) && !providerIn(r, dependents, base)) continue;
    dependents.add(r.urn);
    // Components are not custom resources: the engine never replaces them.
    const custom = r.type.startsWith(PROVIDER) || ruleFor(r.type) !== undefined;
    if (!custom) continue;
    if (providerIn(r, replaceSet, base)) {
      replaceSet.add(r.urn);
      out.push({ urn: r.urn, keys: [] });
      continue;
    }
    const inputs = Object.keys((r.inputs ?? {}) as Record<string, unknown>);
    const unknown = inputs.filter((key) => (r.propertyDependencies?.[key] ?? []).some((u) => replaceSet.has(u)) && !ignored(r, key));
    // A provider whose configuration may change is replaced (the cautious reading, as in steps.ts).
    const keys = r.type.startsWith(PROVIDER) ? unknown : unknown.filter((key) => replacesOnChange(r, key));
    if (keys.length === 0) continue;
    replaceSet.add(r.urn);
    out.push({ urn: r.urn, keys: keys.sort() });
  }
  return out;
}

/**
 * The steps with the engine's rule applied: each dependent a delete-first replacement takes
 * down is replaced, delete-first, for the inputs that condemned it. `baseUrnOf` maps a head
 * step's URN to the old resource it continues (its own URN, or an alias's).
 */
export function withDependentDeletes(steps: readonly Step[], base: readonly PlannedResource[], baseUrnOf: ReadonlyMap<string, string>): Step[] {
  const headUrnOf = new Map([...baseUrnOf].map(([head, old]) => [old, head]));
  // Only a replacement that deletes first by its own option or provider starts a cascade; the
  // dependents it condemns are re-created without a delete-first decision of their own.
  const roots = steps.filter((s) => s.op === "replace" && s.deleteBeforeReplace === true);
  const condemned = new Map<string, string[]>();
  for (const root of roots) {
    const old = baseUrnOf.get(root.urn);
    if (old === undefined) continue;
    for (const d of dependentReplacements(base, old)) {
      const head = headUrnOf.get(d.urn);
      if (head !== undefined && !condemned.has(head)) condemned.set(head, d.keys);
    }
  }
  return steps.map((s) => {
    const keys = condemned.get(s.urn);
    if (keys === undefined || s.op === "delete") return s;
    return { ...s, op: "replace", deleteBeforeReplace: true, replaceReasons: keys.length > 0 ? keys : s.replaceReasons };
  });
}
