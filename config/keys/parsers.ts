import { z } from "zod";
import { USER_NAME_ERE } from "../../domain/user-name";
import { publicKeyProblem } from "../../domain/ssh-key";

/** The building blocks of the keys' parsers, shared by the groups of keys. */

/** The rule create-user.sh applies (domain/user-name.ts). */
export const CADC_USER = new RegExp(USER_NAME_ERE);
// OpenStack allows more, but Glance/Nova names end up in shell commands and image names.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * A key line that matches its pattern must also hold a whole key (domain/ssh-key.ts): `at` is
 * the index of the type word (1 after a known_hosts host name). A line the pattern refused
 * has had its message.
 */
export function keyLineIssue(line: string, pattern: RegExp, at: number, ctx: z.RefinementCtx): void {
  if (!pattern.test(line)) return;
  const words = line.split(/\s+/);
  const problem = publicKeyProblem(words[at] ?? "", words[at + 1] ?? "", words[at + 2]);
  if (problem !== undefined) ctx.addIssue({ code: "custom", message: problem });
}

/**
 * Pulumi hands every value over as a string; structured values (lists) arrive as JSON text.
 * Turning unparseable text into a marker keeps the zod message about the key, not about JSON.
 */
export function jsonList(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return { notAList: text };
  }
}

export const listOf = (item: z.ZodType<string>, what: string) =>
  z.preprocess(jsonList, z.array(item, { error: `expected a YAML list of ${what}` }));

/** OpenStack's limit for names (Nova, Neutron, Glance). */
export const OPENSTACK_NAME_MAX = 255;

export const bool = z.stringbool({ error: "expected true or false" });

export const positiveInt = (min: number, max: number) =>
  z.coerce
    .number({ error: "expected a whole number" })
    .int({ error: "expected a whole number" })
    .min(min, { error: `expected at least ${min}` })
    .max(max, { error: `expected at most ${max}` });

export const name = (what: string, max = OPENSTACK_NAME_MAX) =>
  z
    .string()
    .max(max, { error: `expected at most ${max} characters (${max === OPENSTACK_NAME_MAX ? "OpenStack's limit for names" : "the longest that fits the names made from it"})` })
    .regex(NAME, { error: `expected ${what}: letters, digits, '.', '_' or '-', starting with a letter or digit` });

export const flavorName = (example: string) => z.string().max(64, { error: `expected a flavor name such as ${example}` });
