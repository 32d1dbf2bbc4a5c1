/**
 * What the engine and the providers do with a changed input, for the resource types this
 * program declares: the one table `npm run preview` predicts from. Every fact names where it
 * was read, so the table can be checked again when a pinned version moves.
 *
 * Versions: @pulumi/openstack 3.15.2 bundles terraform-provider-openstack v1.54.1
 * (pulumi-openstack v3.15.2 provider/go.mod:8) through pulumi-terraform-bridge v3.79.0;
 * @pulumi/command 1.2.1 (pulumi-command v1.2.1), still the newest usable on npm when checked on
 * 2026-12-03 (its 4.5.0 is a deprecated preview build without remote.CopyToRemote); the
 * citations below were re-read at the v1.2.1 tag then.
 */

const TPO = "terraform-provider-openstack v1.54.1, openstack/";
const BRIDGE_AUTONAME =
  "pulumi-terraform-bridge v3.79.0 provider.go:954-955, schema.go:199-251: a replacement of a resource whose `name` the program set is delete-before-replace";
const COMMAND_TRIGGERS =
  "pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go:10 (`triggers` is replaceOnChanges; the SDK adds replaceOnChanges: [\"triggers[*]\"]); every other input change is an update, which runs `update`, or `create` when no `update` is given";

export interface TypeRule {
  /** Inputs whose change forces a new resource (the provider's ForceNew). */
  forceNew: readonly string[];
  /** Where forceNew was read. */
  source: string;
  /** The bridge deletes first when the program set `name` (see BRIDGE_AUTONAME). */
  deleteFirstWhenNamed?: boolean;
  /**
   * What the cloud allows only once at a time: two resources (or a replacement and the
   * resource it replaces) holding the same value collide. Each entry gives the value's
   * parts and what the cloud answers.
   */
  unique?: ReadonlyArray<{ what: string; parts: (inputs: Record<string, unknown>) => unknown[][]; answer: string }>;
}

const single = (key: string) => (inputs: Record<string, unknown>) => [[inputs[key]]];

export const TYPE_RULES: Readonly<Record<string, TypeRule>> = {
  "openstack:compute/instance:Instance": {
    // name, flavor (a resize), image (a rebuild), metadata, security groups, power state:
    // updated in place; this program replaces on flavor and image with replaceOnChanges.
    forceNew: ["region", "userData", "availabilityZone", "availabilityZoneHints", "networkMode", "networks", "configDrive", "keyPair", "blockDevices", "schedulerHints"],
    source: `${TPO}resource_openstack_compute_instance_v2.go L56-461 (user_data L96, network L143-197, key_pair L226; image_id L68 rebuilds and flavor_name L84 resizes in place)`,
    deleteFirstWhenNamed: true,
    unique: [
      {
        what: "port",
        parts: (i) => (Array.isArray(i.networks) ? i.networks.map((n) => [(n as { port?: unknown }).port]).filter((p) => p[0] !== undefined) : []),
        answer: 'Nova: "Port <id> is still in use. (HTTP 409)"',
      },
    ],
  },
  "openstack:compute/keypair:Keypair": {
    forceNew: ["region", "name", "publicKey", "valueSpecs", "userId"],
    source: `${TPO}resource_openstack_compute_keypair_v2.go L15-66 (no Update: every input is ForceNew)`,
    deleteFirstWhenNamed: true,
    unique: [{ what: "key pair name", parts: single("name"), answer: "Nova: \"Key pair 'X' already exists (HTTP 409)\"" }],
  },
  "openstack:networking/secGroup:SecGroup": {
    forceNew: ["region", "tenantId", "deleteDefaultRules"],
    source: `${TPO}resource_openstack_networking_secgroup_v2.go L32-67 (name and description updated in place)`,
    deleteFirstWhenNamed: true,
  },
  "openstack:networking/secGroupRule:SecGroupRule": {
    forceNew: ["region", "description", "direction", "ethertype", "portRangeMin", "portRangeMax", "protocol", "remoteGroupId", "remoteIpPrefix", "securityGroupId", "tenantId"],
    source: `${TPO}resource_openstack_networking_secgroup_rule_v2.go L18-105 (no Update: every input is ForceNew)`,
    unique: [
      {
        what: "security group rule",
        // The remote group too: the pool's rule names its group, not a prefix.
        parts: (i) => [[i.securityGroupId, i.direction, i.ethertype, i.protocol, i.portRangeMin, i.portRangeMax, i.remoteIpPrefix ?? null, i.remoteGroupId ?? null]],
        answer: 'Neutron: "Security group rule already exists (HTTP 409)"',
      },
    ],
  },
  "openstack:networking/port:Port": {
    forceNew: ["region", "networkId", "macAddress", "tenantId", "deviceOwner", "deviceId", "valueSpecs"],
    source: `${TPO}resource_openstack_networking_port_v2.go L40-277 (name, security groups, fixed IPs updated in place)`,
    deleteFirstWhenNamed: true,
  },
  "openstack:networking/floatingIp:FloatingIp": {
    forceNew: ["region", "address", "pool", "tenantId", "valueSpecs", "dnsName", "dnsDomain"],
    source: `${TPO}resource_openstack_networking_floatingip_v2.go L35-124 (description, port, tags updated in place)`,
  },
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate": {
    forceNew: ["region", "floatingIp"],
    source: `${TPO}resource_openstack_networking_floatingip_associate_v2.go L24-46 (port_id and fixed_ip re-associate in place; delete clears the port, L139-147)`,
    unique: [
      {
        what: "floating IP",
        parts: single("floatingIp"),
        // Seen on a real Zed cloud (tests/openstack/hazards.test.ts): accepted, then undone.
        answer: "Neutron moves the address to the new port, and the old association's delete then clears it (the address ends on no port)",
      },
      { what: "port's fixed IP", parts: single("portId"), answer: 'Neutron: "that fixed IP already has a floating IP on external network" (HTTP 409)' },
    ],
  },
  "command:local:Command": { forceNew: ["triggers"], source: COMMAND_TRIGGERS },
  "command:remote:Command": { forceNew: ["triggers"], source: COMMAND_TRIGGERS },
  "command:remote:CopyToRemote": { forceNew: ["triggers"], source: `${COMMAND_TRIGGERS}; remote/copy.go:38 (a new source is an update that copies again)` },
};

/**
 * The engine's own rules, applied to every type (pulumi/pulumi pkg/resource/deploy/
 * step_generator.go, read at 1b594989, SDK 3.260):
 */
export const ENGINE_RULES = [
  "a replacement creates the new resource before deleting the old one unless deleteBeforeReplace is set or the provider asks for it (L2031-2047)",
  "a replacement that deletes first deletes before it every dependent that its replacement would replace (the dependent's inputs from the replaced resources made unknown force a replacement, or its provider is replaced), dependents first, whatever their own option, and creates them again after it (L2047-2135, calculateDependentReplacements L3268-3410)",
  "ignoreChanges keeps the old value of a path for an update; a replacement is created with the program's value (L1264-1269, L2001-2023)",
  "replaceOnChanges turns a change of a listed path into a replacement; \"*\" matches every path (L3170-3230)",
  "an input that comes from a resource being created or replaced is unknown in a preview, so a rule on that input fires (L3268-3415)",
  "dependsOn orders steps and never re-runs or replaces anything by itself",
  "a provider whose configuration changes is taken here to replace every resource it manages (the bridge's DiffConfig is not modelled; this is the cautious reading)",
] as const;

/** Where each input change of `type` goes: "replace", "update", or undefined for an unknown type. */
export function ruleFor(type: string): TypeRule | undefined {
  return TYPE_RULES[type];
}

/** `imageId`, `triggers[*]`, `networks[0].port` → the top-level input the path starts with. */
export function topLevelKey(path: string): string {
  return path.split(/[.[]/, 1)[0] ?? path;
}

/** A Markdown table of the rules, for the README and `npm run preview -- --rules`. */
export function rulesTable(): string {
  const rows = Object.entries(TYPE_RULES).map(
    ([type, r]) =>
      `| \`${type}\` | ${r.forceNew.map((k) => `\`${k}\``).join(", ")} | ${r.deleteFirstWhenNamed ? "yes, when `name` is set" : "no"} | ${(r.unique ?? []).map((u) => u.what).join(", ") || "none"} | ${r.source} |`,
  );
  return [
    "| type | inputs that force a new resource | provider deletes first | unique in the cloud | source |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
    `The bridge: ${BRIDGE_AUTONAME}.`,
    "",
    "The engine:",
    ...ENGINE_RULES.map((r) => `- ${r}`),
  ].join("\n");
}
