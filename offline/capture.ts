import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { isSecretOutput, resourcesOf, valueOf } from "./output-introspection";

export const SECRET_MARK = "[secret]";

/**
 * Offline, every `secure:` value is a placeholder carrying a digest of its ciphertext (see
 * stack-file.ts), so nothing in such a value is secret. A secret made from one renders as
 * `[secret <digest of the whole value>]`: two renders then differ exactly when the value
 * did (a secret set anew, or a new host inside a secret SSH connection), which is how
 * `npm run preview` sees those changes. A value without a placeholder may hold a real
 * secret (tests evaluate with plain ones): it stays `[secret]`, nothing derived from it.
 */
const PLACEHOLDER = /offline-render-placeholder-[0-9a-f]{12}/;
const PLACEHOLDERS = /offline-render-placeholder-[0-9a-f]{12}/g;

/** A secret text input made only of offline stand-ins, with each shown as `[secret]`. */
async function redacted(value: unknown): Promise<string | undefined> {
  if (!pulumi.Output.isInstance(value) || !(await isSecretOutput(value))) return undefined;
  const text = await valueOf(value);
  return typeof text === "string" && PLACEHOLDER.test(text) ? text.replace(PLACEHOLDERS, SECRET_MARK) : undefined;
}

function secretMark(value: unknown): string {
  const text = JSON.stringify(value ?? null);
  if (!PLACEHOLDER.test(text)) return SECRET_MARK;
  return `[secret ${createHash("sha256").update(text).digest("hex").slice(0, 12)}]`;
}

/** The resource options that decide how the engine changes a resource on a later `up`. */
export interface PlannedOptions {
  deleteBeforeReplace?: boolean;
  replaceOnChanges?: string[];
  ignoreChanges?: string[];
  retainOnDelete?: boolean;
  protect?: boolean;
  /** Names (same type and parent) the resource was known by before: a rename must not recreate it. */
  aliases?: string[];
  /** Outputs the state keeps encrypted (a command's stdout that holds a key, say). */
  additionalSecretOutputs?: string[];
}

/** One resource as the program declared it, before any cloud saw it. */
export interface PlannedResource {
  urn: string;
  type: string;
  name: string;
  parent?: string;
  /** The id the offline mocks gave it: dependents' inputs carry it. */
  id?: string;
  dependencies: string[];
  /** For each input, the resources its value came from: replacing one of them makes it unknown. */
  propertyDependencies?: Record<string, string[]>;
  options?: PlannedOptions;
  inputs: unknown;
  /**
   * Text inputs that are secret only because of offline placeholders (the user-data with
   * the stand-in host key, say), with each placeholder shown as `[secret]`: what the render
   * writes as files. Never present for a real secret.
   */
  redactedInputs?: Record<string, string>;
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
async function plain(value: unknown, deps: Set<pulumi.Resource>, reveal: boolean): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    for (const r of await resourcesOf(value)) deps.add(r);
    if (!reveal && (await isSecretOutput(value))) return secretMark(await valueOf(value));
    return plain(await valueOf(value), deps, reveal);
  }
  if (value instanceof Promise) return plain(await value, deps, reveal);
  if (isAsset(value)) {
    const asset = value as Record<string, unknown>;
    const out: Record<string, unknown> = { kind: asset.constructor.name };
    for (const key of ["path", "text", "uri"]) if (asset[key] !== undefined) out[key] = await plain(asset[key], deps, reveal);
    // The engine tells assets apart by content: so does the preview.
    if (typeof out.path === "string" && existsSync(out.path) && statSync(out.path).isFile()) {
      out.hash = createHash("sha256").update(readFileSync(out.path)).digest("hex");
    }
    return out;
  }
  if (isResource(value)) {
    deps.add(value);
    return { resource: await valueOf(value.urn) };
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => plain(v, deps, reveal)));
  if (value !== null && typeof value === "object") {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await plain(v, deps, reveal)] as const),
    );
    return Object.fromEntries(entries.filter(([, v]) => v !== undefined));
  }
  return value;
}

async function explicitDeps(opts: pulumi.ResourceOptions, deps: Set<pulumi.Resource>): Promise<void> {
  const listed = await valueOf(pulumi.output(opts.dependsOn ?? []) as pulumi.Output<unknown>);
  for (const r of [listed].flat(2)) if (isResource(r)) deps.add(r);
}

async function plannedOptions(opts: pulumi.ResourceOptions): Promise<PlannedOptions> {
  const custom = opts as pulumi.CustomResourceOptions;
  const out: PlannedOptions = {};
  if (custom.deleteBeforeReplace !== undefined) out.deleteBeforeReplace = custom.deleteBeforeReplace;
  if (opts.replaceOnChanges?.length) out.replaceOnChanges = [...opts.replaceOnChanges];
  if (opts.ignoreChanges?.length) out.ignoreChanges = [...opts.ignoreChanges];
  if (opts.retainOnDelete !== undefined) out.retainOnDelete = opts.retainOnDelete;
  if (opts.protect !== undefined) out.protect = opts.protect;
  // The program gives its old names as `{ name }` aliases (same type, same parent).
  const aliases = (opts.aliases ?? []).flatMap((a) => (typeof a === "object" && a !== null && typeof (a as pulumi.Alias).name === "string" ? [String((a as pulumi.Alias).name)] : []));
  if (aliases.length > 0) out.aliases = aliases;
  const secretOutputs = (opts as pulumi.CustomResourceOptions).additionalSecretOutputs;
  if (secretOutputs?.length) out.additionalSecretOutputs = [...secretOutputs];
  return out;
}

/**
 * Records every resource the program declares, through a stack transformation: the only
 * hook that sees type, name, inputs and options (parent, dependsOn) together. Register it
 * inside runInPulumiStack, before the program runs; call `plan()` after it finished.
 */
export class ResourceRecorder {
  private readonly declared: Declared[] = [];

  constructor(private readonly opts: { revealSecrets: boolean } = { revealSecrets: false }) {}

  register(): void {
    pulumi.runtime.registerStackTransformation((args) => {
      this.declared.push({ resource: args.resource, type: args.type, name: args.name, props: args.props, opts: args.opts });
      return undefined;
    });
  }

  async plan(): Promise<PlannedResource[]> {
    const urnOf = async (r: pulumi.Resource) => String(await valueOf(r.urn));
    const urnsOf = async (deps: Set<pulumi.Resource>, self: pulumi.Resource) =>
      [...new Set(await Promise.all([...deps].filter((r) => r !== self).map(urnOf)))].sort();
    return Promise.all(
      this.declared.map(async (d): Promise<PlannedResource> => {
        const deps = new Set<pulumi.Resource>();
        const inputs: Record<string, unknown> = {};
        const propertyDependencies: Record<string, string[]> = {};
        const redactedInputs: Record<string, string> = {};
        for (const [key, value] of Object.entries(d.props ?? {})) {
          const shown = this.opts.revealSecrets ? undefined : await redacted(value);
          if (shown !== undefined) redactedInputs[key] = shown;
          const own = new Set<pulumi.Resource>();
          const resolved = await plain(value, own, this.opts.revealSecrets);
          if (resolved !== undefined) inputs[key] = resolved;
          const urns = await urnsOf(own, d.resource);
          if (urns.length > 0) propertyDependencies[key] = urns;
          for (const r of own) deps.add(r);
        }
        await explicitDeps(d.opts, deps);
        const id = pulumi.CustomResource.isInstance(d.resource) ? await valueOf((d.resource as pulumi.CustomResource).id) : undefined;
        const options = await plannedOptions(d.opts);
        return {
          urn: await urnOf(d.resource),
          type: d.type,
          name: d.name,
          ...(d.opts.parent ? { parent: await urnOf(d.opts.parent) } : {}),
          ...(typeof id === "string" ? { id } : {}),
          dependencies: await urnsOf(deps, d.resource),
          ...(Object.keys(propertyDependencies).length > 0 ? { propertyDependencies } : {}),
          ...(Object.keys(options).length > 0 ? { options } : {}),
          inputs,
          ...(Object.keys(redactedInputs).length > 0 ? { redactedInputs } : {}),
        };
      }),
    );
  }
}
