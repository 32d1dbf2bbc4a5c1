import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/config-error";
import { cloudNameProblems, namespaceProblems } from "../../config/namespaces";
import { evaluate } from "../../offline/evaluate";
import { VALID_RAW } from "../fixtures/stack-config";

describe("keys outside the canfar namespace", () => {
  it("`pulumi config set flavor ...` (the project's namespace) is refused with the key that was meant", async () => {
    const config = { ...Object.fromEntries(Object.entries(VALID_RAW).map(([k, v]) => [`canfar:${k}`, v])), "canfar-batch:flavor": "c2-15gb-31" };
    const attempt = evaluate("canfar-batch", "dev", { config, secretKeys: ["canfar:cadcPassword", "canfar:sshPrivateKey"] });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      "  - canfar-batch:flavor: is in the project's namespace, which the program does not read; did you mean canfar:flavor? (`pulumi config set canfar:flavor ...`; without a namespace, `pulumi config set` writes canfar-batch:)",
    );
  });

  it("any other namespace is refused too, except Pulumi's own; openstack:* says why it would be ignored", () => {
    const found = namespaceProblems(["cnafar:flavor", "openstack:insecure", "pulumi:tags", "canfar-batch:nosuchkey"], "canfar-batch");
    expect(found.map((p) => p.key)).toEqual(["cnafar:flavor", "openstack:insecure", "canfar-batch:nosuchkey"]);
    expect(found[0]?.message).toBe('is in namespace "cnafar", which nothing reads; did you mean canfar:flavor? (`pulumi config set canfar:flavor ...`; without a namespace, `pulumi config set` writes canfar-batch:)');
    expect(found[1]?.message).toContain("the program makes its own OpenStack provider from canfar:cloud");
    expect(found[2]?.message).toContain("this program reads only canfar:* keys");
  });

  it("a key with a line break cannot forge a line of the report", () => {
    const [problem] = namespaceProblems(["evil\n  - canfar:cadcUser: fine:x"], "canfar-batch");
    const message = new ConfigError(problem ? [problem] : []).message;
    expect(message.split("\n")).toHaveLength(2);
  });

  it("cloud names made from project and stack must fit OpenStack's 255 characters", () => {
    expect(cloudNameProblems("canfar-batch-dev", "dev")).toEqual([]);
    const [p] = cloudNameProblems(`canfar-batch-${"s".repeat(230)}`, "s".repeat(230));
    expect(p?.message).toMatch(/^makes cloud names of 28\d characters .*OpenStack takes at most 255: choose a shorter stack name$/);
  });
});
