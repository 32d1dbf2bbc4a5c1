import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { PLACEHOLDERS, placeholderWarning } from "../../config/placeholders";
import { readStackConfig } from "../../offline/stack-file";
import { evaluateProgram } from "../fixtures/evaluate-program";

const ROOT = join(__dirname, "..", "..");

/** An example stack's `canfar:*` values as the program gets them (namespace dropped). */
function exampleRaw(stack: string): Record<string, string> {
  const { config } = readStackConfig(join(ROOT, `Pulumi.${stack}.yaml`));
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^canfar:/, ""), v]));
}

/** The keys a warning names, in its order. */
const keysIn = (warning: string | undefined) => [...(warning ?? "").matchAll(/^ {2}- canfar:(\w+): /gm)].map((m) => m[1]);

/** Values a user would put there: none of them the example's. */
const OWN: Record<string, string> = {
  network: "def-astro-network",
  sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvzXgA1o0hj2nYyE4u9bK0m8v6j8xj1lWk6q3d0Hq1b me@uvic.ca",
  sshIngressCidrs: JSON.stringify(["142.104.0.0/16"]),
  cadcUser: "jdoe",
  vospace: "vos:jdoe/catalogues",
  batchHostKey: "batch.canfar.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHvzXgA1o0hj2nYyE4u9bK0m8v6j8xj1lWk6q3d0Hq1b",
  openstackProjectName: "def-astro",
  openstackProjectId: "5f1b0a3c9d2e4f6a8b7c6d5e4f3a2b1c",
};

describe("the example stacks' placeholders: one list, held to the examples", () => {
  it("each placeholder is what the dev example holds, and every value marked CHANGE there has one", () => {
    const warning = placeholderWarning(exampleRaw("dev"));
    expect(keysIn(warning)).toEqual(PLACEHOLDERS.map((p) => p.key));
    // The keys set under a comment saying CHANGE (or with CHANGE on their own line).
    const dev = readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8").split("\n");
    const marked = new Set<string>();
    let change = false;
    for (const line of dev) {
      if (/^\s*#/.test(line)) change ||= /CHANGE/.test(line);
      else if (/^\s*$/.test(line)) change = false;
      else {
        const key = /^ {2}canfar:(\w+):/.exec(line)?.[1];
        if (key !== undefined && (change || /# CHANGE/.test(line)) && !/secure:/.test(dev[dev.indexOf(line) + 1] ?? "")) marked.add(key);
      }
    }
    // The batch host and the Keystone URL are CANFAR's real ones, not placeholders.
    marked.delete("batchHost");
    marked.delete("openstackAuthUrl");
    expect([...marked].sort()).toEqual(PLACEHOLDERS.map((p) => p.key).sort());
  });

  it("the self-hosted example warns about the placeholders it holds", () => {
    expect(keysIn(placeholderWarning(exampleRaw("self-hosted")))).toEqual(["network", "sshPublicKey", "sshIngressCidrs", "cadcUser", "vospace"]);
  });

  it("says what to set instead, one line per key, without a key's whole base64", () => {
    const warning = placeholderWarning({ network: "my-project-network", sshPublicKey: exampleRaw("dev").sshPublicKey as string });
    expect(warning).toBe(
      "2 values are still the example stack's placeholders (fine for an offline render; `pulumi up` would use them):\n" +
        "  - canfar:network: still the example's 'my-project-network'; set your project's network (`openstack network list`)\n" +
        "  - canfar:sshPublicKey: still the example's AAAAC3NzaC1lZDI1NTE5...; set your own public key (`cat ~/.ssh/id_ed25519.pub`)",
    );
  });

  it("a placeholder among the user's own list items is found; a stack of the user's own values warns of nothing", () => {
    expect(keysIn(placeholderWarning({ sshIngressCidrs: JSON.stringify(["142.104.0.0/16", "198.51.100.0/24"]) }))).toEqual(["sshIngressCidrs"]);
    expect(placeholderWarning(OWN)).toBeUndefined();
  });
});

describe("the program warns (pulumi.log.warn), and still runs, on placeholders", () => {
  afterEach(() => vi.restoreAllMocks());
  // Offline (no engine) the SDK prints a warning with console.warn; `pulumi up` shows it
  // under the stack.
  const warnings = async (overrides: Record<string, string>) => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const e = await evaluateProgram(overrides);
    expect(e.resources.length).toBeGreaterThan(0);
    return warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes("placeholder"));
  };

  it("the fixture (the example's values): one warning naming them", async () => {
    const found = await warnings({});
    expect(found).toHaveLength(1);
    expect(found[0]).toContain("  - canfar:network: still the example's 'my-project-network'");
  });

  it("the user's own values: no warning", async () => {
    expect(await warnings(OWN)).toEqual([]);
  });
});
