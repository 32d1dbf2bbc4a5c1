import * as pulumi from "@pulumi/pulumi";
import { isSecretOutput, resourcesOf, valueOf } from "./output-introspection";

export const SECRET_MARK = "[secret]";

/** One resource as the program declared it, before any cloud saw it. */
export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  dependencies: string[];
  inputs: unknown;
}

interface Declared {
  resource: pulumi.Resource;
  type: string;
  name: string;
  props: pulumi.Inputs;
  opts: pulumi.ResourceOptions;
}

// The SDK's guards take `any`, which narrows an `unknown` to `never` in the else branches.
function isResource(value: unknown): value is pulumi.Resource {
  return pulumi.Resource.isInstance(value);
}

function isAsset(value: unknown): value is object {
  return pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value);
}

/** Resolves an input tree; any secret Output (or anything below one) becomes SECRET_MARK. */
async function plain(value: unknown, deps: Set<pulumi.Resource>): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    for (const r of await resourcesOf(value)) deps.add(r);
    if (await isSecretOutput(value)) return SECRET_MARK;
    return plain(await valueOf(value), deps);
  }
  if (value instanceof Promise) return plain(await value, deps);
  if (isAsset(value)) {
    const asset = value as Record<string, unknown>;
    const out: Record<string, unknown> = { kind: asset.constructor.name };
    for (const key of ["path", "text", "uri"]) if (asset[key] !== undefined) out[key] = await plain(asset[key], deps);
    return out;
  }
  if (isResource(value)) {
    deps.add(value);
    return { resource: await valueOf(value.urn) };
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => plain(v, deps)));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await plain(v, deps)] as const),
    );
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  return value;
}

async function explicitDeps(opts: pulumi.ResourceOptions, deps: Set<pulumi.Resource>): Promise<void> {
  const listed = await valueOf(pulumi.output(opts.dependsOn ?? []) as pulumi.Output<unknown>);
  for (const r of [listed].flat(2)) if (isResource(r)) deps.add(r);
}

/**
 * Records every resource the program declares, through a stack transformation: the only
 * hook that sees type, name, inputs and options (parent, dependsOn) together. Register it
 * inside runInPulumiStack, before the program runs; call `plan()` after it finished.
 */
export class ResourceRecorder {
  private readonly declared: Declared[] = [];

  register(): void {
    pulumi.runtime.registerStackTransformation((args) => {
      this.declared.push({ resource: args.resource, type: args.type, name: args.name, props: args.props, opts: args.opts });
      return undefined;
    });
  }

  async plan(): Promise<PlannedResource[]> {
    return Promise.all(
      this.declared.map(async (d): Promise<PlannedResource> => {
        const deps = new Set<pulumi.Resource>();
        const inputs = await plain(d.props, deps);
        await explicitDeps(d.opts, deps);
        const urnOf = async (r: pulumi.Resource) => String(await valueOf(r.urn));
        const dependencies = [...new Set(await Promise.all([...deps].filter((r) => r !== d.resource).map(urnOf)))].sort();
        return {
          urn: await urnOf(d.resource),
          type: d.type,
          name: d.name,
          ...(d.opts.parent ? { parent: await urnOf(d.opts.parent) } : {}),
          dependencies,
          inputs,
        };
      }),
    );
  }
}
