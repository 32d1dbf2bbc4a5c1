import * as pulumi from "@pulumi/pulumi";
import { withOverrides, type MockOverrides } from "./mocks";
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
 * The SDK keeps its runtime state per process: evaluate one stack at a time.
 */
export interface EvaluateOptions extends MockOverrides {
  /**
   * Record secret inputs as they are instead of `[secret]`: for tests that replay what the
   * program declares (the system test's user-data), never for anything written or shown.
   */
  revealSecrets?: boolean;
}

export async function evaluate(project: string, stack: string, stackConfig: StackConfig, opts: EvaluateOptions = {}): Promise<Evaluation> {
  await pulumi.runtime.setMocks(withOverrides(opts), project, stack, false);
  pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);
  const recorder = new ResourceRecorder({ revealSecrets: opts.revealSecrets === true });
  let outputs: Record<string, unknown> = {};
  const program = await loadProgram();
  // A failure is carried out of the stack rather than thrown inside it: the SDK would also
  // reject the stack's own outputs promise, which nobody awaits offline.
  let failure: { error: unknown } | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    recorder.register();
    try {
      outputs = await program();
    } catch (error) {
      failure = { error };
    }
    return outputs;
  });
  if (failure) throw failure.error;
  const resources = await recorder.plan();
  const resolved = await resolveOutputs(outputs);
  return { resources, outputs: resolved };
}

/**
 * index.ts uses `export =` (Pulumi's CommonJS loader calls a function only when it is the
 * module itself); a dynamic import sees it as the default export.
 */
async function loadProgram(): Promise<Program> {
  const mod = (await import("..")) as unknown as { default?: Program } | Program;
  return typeof mod === "function" ? mod : (mod.default as Program);
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
