import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import { evaluate } from "../../offline/evaluate";
import { readStackConfig, type StackConfig } from "../../offline/stack-file";
import { predict } from "../../tools/preview/predict";
import { logicalChanges, type StepMetadata } from "./engine-events";

// The whole lifecycle against a real cloud, opt-in (`npm run test:cloud`): up, a second up
// that changes nothing, a change of extraPackages whose steps must be the ones
// `npm run preview` predicted, destroy. State lives in a local file backend of its own.
//
// Needs the Pulumi CLI on PATH, a clouds.yaml entry for the cloud, and
// CANFAR_BATCH_CLOUD_CONFIG: a stack file (as Pulumi.dev.yaml) with real values, the secrets
// in plain text under `canfar:cadcPassword` / `canfar:sshPrivateKey` (it never leaves this
// machine; the test stores them as secrets). It creates real servers and an image: costs
// quota. This is the one skip CANFAR_BATCH_REQUIRE_ALL leaves alone: CI has no cloud.
const ROOT = join(__dirname, "..", "..");
const configFile = process.env.CANFAR_BATCH_CLOUD_CONFIG;

function whyNot(): string | undefined {
  if (spawnSync("pulumi", ["version"], { encoding: "utf8" }).status !== 0) return "no Pulumi CLI on PATH (https://www.pulumi.com/docs/install/)";
  if (!configFile) return "CANFAR_BATCH_CLOUD_CONFIG is not set (a stack file with real values for a real cloud)";
  if (!existsSync(configFile)) return `CANFAR_BATCH_CLOUD_CONFIG: '${configFile}' does not exist`;
  return undefined;
}
const why = whyNot();
if (why) process.stderr.write(`skipping the real-cloud lifecycle test: ${why}\n`);

const SECRETS = new Set(["canfar:cadcPassword", "canfar:sshPrivateKey"]);

/** The offline render of this stack config, for the prediction. */
async function render(stackName: string, config: StackConfig) {
  return (await evaluate("canfar-batch", stackName, { config: config.config, secretKeys: [...SECRETS] })).resources;
}

describe.skipIf(why)("real cloud: up, up again, a predicted change, destroy", () => {
  // Made in beforeAll, not here: a skipped suite's body still runs, and would leave it behind.
  let backend = "";
  const stackName = `cloudtest-${randomBytes(3).toString("hex")}`;
  let stack: Stack;
  let config: StackConfig;

  const setAll = async (values: Record<string, string>) => {
    for (const [k, v] of Object.entries(values)) await stack.setConfig(k, { value: v, secret: SECRETS.has(k) });
  };

  beforeAll(async () => {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    config = readStackConfig(configFile as string);
    backend = mkdtempSync(join(tmpdir(), "canfar-batch-state-"));
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName, workDir: ROOT },
      { envVars: { PULUMI_BACKEND_URL: `file://${backend}`, PULUMI_CONFIG_PASSPHRASE: randomBytes(16).toString("hex") } },
    );
    await setAll(config.config);
  }, 120_000);

  afterAll(async () => {
    try {
      await stack?.destroy({ onOutput: (o) => process.stderr.write(o) });
      await stack?.workspace.removeStack(stackName);
    } finally {
      rmSync(join(ROOT, `Pulumi.${stackName}.yaml`), { force: true });
      if (backend) rmSync(backend, { recursive: true, force: true });
    }
  }, 3_600_000);

  it("builds the stack, and a second up changes nothing", async () => {
    const first = await stack.up({ onOutput: (o) => process.stderr.write(o) });
    expect(first.summary.result).toBe("succeeded");
    const second = await stack.up();
    const changes = Object.entries(second.summary.resourceChanges ?? {}).filter(([op]) => op !== "same");
    expect(changes).toEqual([]);
  }, 3_600_000);

  it("a change of extraPackages takes exactly the steps npm run preview predicted", async () => {
    const changed = { ...config.config, "canfar:extraPackages": JSON.stringify(["htop"]) };
    const predicted = predict(await render(stackName, config), await render(stackName, { config: changed, secretKeys: config.secretKeys }))
      .steps.filter((s) => s.op !== "same")
      .map((s) => `${s.op} ${s.urn}`)
      .sort();
    await setAll({ "canfar:extraPackages": changed["canfar:extraPackages"] as string });
    const events: Array<StepMetadata | undefined> = [];
    await stack.up({ onEvent: (e) => events.push(e.resourcePreEvent?.metadata) });
    expect(logicalChanges(events).sort()).toEqual(predicted);
  }, 3_600_000);
});
