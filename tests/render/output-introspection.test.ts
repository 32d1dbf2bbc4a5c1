import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { isSecretOutput, resourcesOf, valueOf } from "../../offline/output-introspection";

// The renderer relies on Output members the SDK marks @internal; this pins them to the
// pinned @pulumi/pulumi so an upgrade that moves them fails here, not in a wrong plan.
describe("Output internals used by the renderer", () => {
  it("reads value and secretness", async () => {
    expect(await valueOf(pulumi.output("plain"))).toBe("plain");
    expect(await isSecretOutput(pulumi.output("plain"))).toBe(false);
    expect(await isSecretOutput(pulumi.secret("s"))).toBe(true);
    expect(await isSecretOutput(pulumi.secret("s").apply((s) => `${s}!`))).toBe(true);
  });

  it("reads the resources an output came from", async () => {
    await pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) });
    class Thing extends pulumi.CustomResource {
      constructor(name: string) {
        super("test:index:Thing", name, { x: 1 });
      }
    }
    const r = new Thing("thing");
    const derived = r.id.apply((id: string) => `${id}/x`);
    expect(await resourcesOf(derived)).toContain(r);
  });
});
