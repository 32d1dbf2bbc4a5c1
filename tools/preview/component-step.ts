/**
 * Where a resource sits in the program, read from what the engine records rather than from
 * the names index.ts happens to give: the type token of the component holding it, from its
 * URN (`urn:pulumi:STACK::PROJECT::PARENT-TYPE$TYPE::NAME`), and its step id inside that
 * component. A component names each child `<its own name>-<step id>` (the `*_STEPS`
 * constants of build/, image/, batch/ and pool/), so the id is the child's name without the
 * parent's, which is the last part of the parent's URN. Renaming a component in index.ts
 * changes neither.
 *
 * Only the type just before a resource's own is read: the engine's URNs may carry every
 * enclosing component's type, but Pulumi's mocks (the offline render) carry only the
 * parent's, and the stack's before a top-level resource's. What encloses the parent is read
 * from the parent's URN the same way (outerType).
 */

/** What is needed of a step or a planned resource: both carry these. */
export interface Located {
  urn: string;
  name: string;
  /** The URN of the component (or the stack) it was declared in. */
  parent?: string;
}

const STACK = "pulumi:pulumi:Stack";

// urn:pulumi:STACK :: PROJECT :: TYPES :: NAME; a name may itself hold "::", the rest never.
const typesOf = (urn: string): string[] => (urn.split("::")[2] ?? "").split("$");
const nameOf = (urn: string): string => urn.split("::").slice(3).join("::");

/** The type token of the component holding a resource directly, or undefined at the top. */
export function parentType(urn: string): string | undefined {
  const parent = typesOf(urn).at(-2);
  return parent === STACK ? undefined : parent;
}

/** The type token of the component holding a resource's component, or undefined. */
export function outerType(r: Located): string | undefined {
  return r.parent === undefined ? undefined : parentType(r.parent);
}

/** A resource's step id inside its component, or undefined when its name does not start with the component's. */
export function stepId(r: Located): string | undefined {
  if (r.parent === undefined || parentType(r.urn) === undefined) return undefined;
  const component = nameOf(r.parent);
  return r.name.startsWith(`${component}-`) ? r.name.slice(component.length + 1) : undefined;
}

/** The step id of a resource held directly by a component of `type`; undefined for any other. */
export function stepIn(r: Located, type: string): string | undefined {
  return parentType(r.urn) === type ? stepId(r) : undefined;
}

/** Whether a resource is the child `id` of a component of `type`. */
export function isStep(r: Located, type: string, id: string): boolean {
  return stepIn(r, type) === id;
}
