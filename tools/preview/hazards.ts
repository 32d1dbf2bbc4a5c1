import { isDeepStrictEqual } from "node:util";
import { ruleFor } from "./provider-rules";
import type { Step } from "./steps";

/** A step the cloud will refuse, or that would undo another step, with why. */
export interface Hazard {
  urn: string;
  name: string;
  message: string;
}

/**
 * Steps that collide on something the cloud allows only once: a new resource (a create, or
 * the new half of a replacement) holding a value that another resource, or its own old
 * self when it is created before the old one is deleted, still holds at that moment.
 * Values not known before `up` never collide.
 */
export function findHazards(steps: readonly Step[]): Hazard[] {
  const hazards: Hazard[] = [];
  for (const s of steps) {
    if (s.op !== "create" && s.op !== "replace") continue;
    const rule = ruleFor(s.type);
    if (!rule?.unique || !s.newInputs) continue;
    const unknown = new Set(s.unknownInputs ?? []);
    const known = Object.fromEntries(Object.entries(s.newInputs).filter(([k]) => !unknown.has(k)));
    for (const u of rule.unique) {
      for (const value of u.parts(known)) {
        if (value.some((v) => v === undefined)) continue;
        // Who still holds `value` when this one is created: any other resource that had it,
        // and its own old self when the replacement is known to create first.
        const holders = steps.filter((o) => {
          if (o.type !== s.type || !o.oldInputs || o.op === "create") return false;
          if (o.urn === s.urn && !(s.op === "replace" && s.deleteBeforeReplace === false)) return false;
          return u.parts(o.oldInputs).some((held) => isDeepStrictEqual(held, value));
        });
        for (const o of holders) {
          const when = o.urn === s.urn ? "its old self, which a create-before-delete replacement deletes only afterwards," : `${o.name} (${o.op})`;
          hazards.push({
            urn: s.urn,
            name: s.name,
            message: `${s.op} of ${s.name} needs the ${u.what} ${JSON.stringify(value.length === 1 ? value[0] : value)} while ${when} still holds it; ${u.answer}`,
          });
        }
      }
    }
  }
  return hazards;
}
