import { beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { predict } from "../../tools/preview/predict";
import { renderDev, type ExampleStack } from "../preview/stack-change";

// pulumi-command logs both streams unless told otherwise, and the engine prints every logged
// line to the console and so to CI logs: additionalSecretOutputs keeps a secret out of the
// state only. The real engine printed the generated host key this way (shared/engine,
// first-up.engine.log). So every command says what it logs, and none logs a stream that holds
// or feeds a secret.
const COMMAND_TYPES = new Set(["command:local:Command", "command:remote:Command"]);
const LOGGING = ["stdout", "stderr", "stdoutAndStderr", "none"] as const;
type Logging = (typeof LOGGING)[number];
type Stream = "stdout" | "stderr";

function logs(logging: Logging, stream: Stream): boolean {
  return logging === "stdoutAndStderr" || logging === stream;
}

/** An input that is a secret as a whole (the render shows `[secret]` or `[secret <digest>]`). */
function isSecret(value: unknown): boolean {
  return typeof value === "string" && /^\[secret( [0-9a-f]{12})?\]$/.test(value);
}

/**
 * Commands whose output flows into an input of another resource that is a secret as a whole
 * (the host key into a server's user-data): what they print becomes a secret, so it is one
 * already. An input that only holds a secret somewhere inside (a connection's private key
 * beside its host, a trigger list with a digest of secrets) says nothing of the others.
 */
function feedingSecrets(resources: readonly PlannedResource[]): Map<string, string[]> {
  const commands = new Set(resources.filter((r) => COMMAND_TYPES.has(r.type)).map((r) => r.urn));
  const found = new Map<string, string[]>();
  for (const r of resources) {
    const inputs = r.inputs as Record<string, unknown>;
    for (const [key, from] of Object.entries(r.propertyDependencies ?? {})) {
      if (!isSecret(inputs[key])) continue;
      for (const urn of from.filter((u) => commands.has(u))) found.set(urn, [...(found.get(urn) ?? []), `${r.name}.${key}`]);
    }
  }
  return found;
}

/** The streams of a command that hold a secret: declared secret outputs, and stdout when it feeds one. */
function secretStreams(command: PlannedResource, feeding: ReadonlyMap<string, string[]>): Stream[] {
  const declared = (command.options?.additionalSecretOutputs ?? []).filter((o): o is Stream => o === "stdout" || o === "stderr");
  return [...new Set<Stream>([...declared, ...(feeding.has(command.urn) ? (["stdout"] as const) : [])])];
}

describe.each<ExampleStack>(["dev", "self-hosted"])("no command with a secret in its output logs it (%s stack)", (stack) => {
  let resources: PlannedResource[] = [];
  let commands: PlannedResource[] = [];
  beforeAll(async () => {
    resources = await renderDev({ stack });
    commands = resources.filter((r) => COMMAND_TYPES.has(r.type));
  });

  it("every command chooses what it logs", () => {
    expect(commands.length).toBeGreaterThan(10);
    const unset = commands.filter((c) => !LOGGING.includes((c.inputs as { logging?: Logging }).logging as Logging)).map((c) => c.name);
    expect(unset).toEqual([]);
  });

  it("finds the host keys among the commands whose output is a secret", () => {
    const feeding = feedingSecrets(resources);
    const names = commands.filter((c) => secretStreams(c, feeding).length > 0).map((c) => c.name);
    const keys = stack === "self-hosted" ? ["build-host-key-generate", "pool-submit-host-key-generate"] : ["build-host-key-generate"];
    expect(names).toEqual(expect.arrayContaining(keys));
  });

  it("a command whose output is or feeds a secret keeps it in the state encrypted and does not log it", () => {
    const feeding = feedingSecrets(resources);
    const offending: string[] = [];
    for (const c of commands) {
      const logging = (c.inputs as { logging?: Logging }).logging ?? "stdoutAndStderr";
      for (const stream of secretStreams(c, feeding)) {
        if (logs(logging, stream)) offending.push(`${c.name} logs ${stream} (logging: ${logging})`);
        if (!(c.options?.additionalSecretOutputs ?? []).includes(stream)) offending.push(`${c.name}: ${stream} feeds ${feeding.get(c.urn)?.join(", ")} but is not in additionalSecretOutputs`);
      }
    }
    expect(offending).toEqual([]);
  });

  it("a stack made before every command chose its logging sees the host keys' change alone (no step runs again)", () => {
    // Such a stack holds `logging` unset wherever the program now logs both streams, as the
    // provider did by default, and on the host keys.
    const earlier = resources.map((r) => {
      const inputs = r.inputs as { logging?: Logging };
      if (!COMMAND_TYPES.has(r.type) || (inputs.logging !== "stdoutAndStderr" && !r.name.endsWith("host-key-generate"))) return r;
      const { logging: _dropped, ...rest } = inputs;
      return { ...r, inputs: rest };
    });
    const changed = predict(earlier, resources).steps.filter((s) => s.op !== "same");
    // The host keys' update only prints the key it kept ($PULUMI_COMMAND_STDOUT), now unlogged.
    expect(changed.map((s) => `${s.op} ${s.name}`).sort()).toEqual(commands.filter((c) => c.name.endsWith("host-key-generate")).map((c) => `update ${c.name}`).sort());
  });
});
