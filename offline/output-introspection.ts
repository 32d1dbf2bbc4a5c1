import * as pulumi from "@pulumi/pulumi";

/**
 * The SDK's Output keeps the resources it came from and its secretness behind members marked
 * @internal. The renderer needs both (dependencies; `[secret]` redaction), so this is the one
 * place that reaches for them; tests/render pins the behaviour against the pinned SDK.
 */
interface OutputInternals {
  allResources(): Promise<Set<pulumi.Resource>>;
  isSecret: Promise<boolean>;
  promise(withUnknowns?: boolean): Promise<unknown>;
}

function internals(o: pulumi.Output<unknown>): OutputInternals {
  return o as unknown as OutputInternals;
}

export async function resourcesOf(o: pulumi.Output<unknown>): Promise<pulumi.Resource[]> {
  return [...(await internals(o).allResources())];
}

export async function isSecretOutput(o: pulumi.Output<unknown>): Promise<boolean> {
  return internals(o).isSecret;
}

export async function valueOf(o: pulumi.Output<unknown>): Promise<unknown> {
  return internals(o).promise(true);
}
