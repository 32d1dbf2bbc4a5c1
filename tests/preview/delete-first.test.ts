import { describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { dependentReplacements } from "../../tools/preview/delete-first";
import { planSteps } from "../../tools/preview/steps";

// The engine's rule on small graphs: which dependents a delete-first replacement takes down.
const INSTANCE = "openstack:compute/instance:Instance";
const COMMAND = "command:remote:Command";
const urn = (name: string, type: string) => `urn:pulumi:dev::canfar-batch::${type}::${name}`;

function res(name: string, type: string, inputs: Record<string, unknown>, deps: Record<string, string[]> = {}, extra: Partial<PlannedResource> = {}): PlannedResource {
  const propertyDependencies = Object.fromEntries(Object.entries(deps).map(([k, names]) => [k, names.map((n) => urn(n, n === "server" ? INSTANCE : COMMAND))]));
  return { urn: urn(name, type), type, name, dependencies: Object.values(propertyDependencies).flat(), propertyDependencies, inputs, ...extra };
}

const server = (userData: string) => res("server", INSTANCE, { name: "vm", userData }, {}, { options: { deleteBeforeReplace: true } });
/** A command on the server whose triggers carry its id, as the provisioning steps' do. */
const onServer = (name: string, extra: Partial<PlannedResource> = {}) =>
  res(name, COMMAND, { triggers: ["server-id"], create: name }, { triggers: ["server"] }, { options: { replaceOnChanges: ["triggers[*]"] }, ...extra });

describe("dependents deleted before a delete-first replacement", () => {
  const base = [
    server("a"),
    onServer("first"),
    // After `first`, triggers from it: condemned through it.
    res("second", COMMAND, { triggers: ["first-id"] }, { triggers: ["first"] }, { options: { replaceOnChanges: ["triggers[*]"] } }),
    // Only ordered after the server: a dependsOn edge never condemns.
    res("ordered", COMMAND, { create: "x" }, {}, { dependencies: [urn("server", INSTANCE)], options: { replaceOnChanges: ["triggers[*]"] } }),
    // Its server-derived input is no replace trigger: updated, not condemned.
    res("env", COMMAND, { environment: { ID: "server-id" }, triggers: ["t"] }, { environment: ["server"] }, { options: { replaceOnChanges: ["triggers[*]"] } }),
    // The server-derived triggers are ignored: no change, not condemned.
    onServer("ignoring", { options: { replaceOnChanges: ["triggers[*]"], ignoreChanges: ["triggers"] } }),
  ];

  it("keeps those whose inputs from the replace set force a replacement, transitively, in dependency order", () => {
    expect(dependentReplacements(base, urn("server", INSTANCE))).toEqual([
      { urn: urn("first", COMMAND), keys: ["triggers"] },
      { urn: urn("second", COMMAND), keys: ["triggers"] },
    ]);
  });

  // The engine decides from the old state: a dependent the new program no longer feeds from
  // the replaced resources, with only an update of its own, is still taken down.
  const secondNoLongerFromFirst = (r: PlannedResource): PlannedResource => ({ ...r, dependencies: [], propertyDependencies: {}, inputs: { triggers: ["first-id"], create: "changed" } });

  it("planSteps marks them delete-first, even one whose own diff is only an update", () => {
    const head = base.map((r) => (r.name === "server" ? server("b") : r.name === "second" ? secondNoLongerFromFirst(r) : r));
    const steps = planSteps(base, head);
    const of = (name: string) => steps.find((s) => s.name === name);
    expect(of("server")).toMatchObject({ op: "replace", deleteBeforeReplace: true });
    expect(of("first")).toMatchObject({ op: "replace", deleteBeforeReplace: true, replaceReasons: ["triggers"] });
    expect(of("second")).toMatchObject({ op: "replace", deleteBeforeReplace: true, replaceReasons: ["triggers"] });
    expect(of("env")).toMatchObject({ op: "update", deleteBeforeReplace: null });
    expect(of("ordered")?.op).toBe("same");
    expect(of("ignoring")?.op).toBe("same");
  });

  it("a create-first replacement takes nothing down", () => {
    const createFirst = base.map((r) => (r.name === "server" ? { ...r, options: { deleteBeforeReplace: false } } : r));
    const head = createFirst.map((r) => (r.name === "server" ? { ...r, inputs: { name: "vm", userData: "b" } } : r));
    const steps = planSteps(createFirst, head);
    expect(steps.find((s) => s.name === "first")).toMatchObject({ op: "replace", deleteBeforeReplace: false });
  });
});
