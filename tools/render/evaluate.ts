import * as pulumi from "@pulumi/pulumi";
import { offlineMocks } from "./mocks";
import { PlannedResource, ResourceRecorder, SECRET_MARK } from "./capture";
import { isSecretOutput, valueOf } from "./output-introspection";
import type { StackConfig } from "./stack-file";

export interface Evaluation {
  resources: PlannedResource[];
  outputs: Record<string, unknown>;
}

type Program = () => Promise<Record<string, pulumi.Input<unknown>>>;

/**
 * Runs the Pulumi program offline under the SDK's mock runtime with the given stack's
 * config and returns every declared resource. The program is imported only after the
 * mocks and config are in place: module-level code may already read config.
 */
export async function evaluate(project: string, stack: string, stackConfig: StackConfig): Promise<Evaluation> {
  await pulumi.runtime.setMocks(offlineMocks, project, stack, false);
  pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);
  const recorder = new ResourceRecorder();
  let outputs: Record<string, unknown> = {};
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const program = require("../../index") as Program;
  await pulumi.runtime.runInPulumiStack(async () => {
    recorder.register();
    const result = await program();
    outputs = result;
    return result;
  });
  const resources = await recorder.plan();
  const resolved = await resolveOutputs(outputs);
  return { resources, outputs: resolved };
}

/** Stack outputs as `pulumi stack output` would show them: secrets stay hidden. */
async function resolveOutputs(outputs: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) {
    const o = pulumi.output(v) as pulumi.Output<unknown>;
    out[k] = (await isSecretOutput(o)) ? SECRET_MARK : await valueOf(o);
  }
  return out;
}
