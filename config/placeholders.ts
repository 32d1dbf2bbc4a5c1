/**
 * The values the example stacks (Pulumi.dev.yaml, Pulumi.self-hosted.yaml) give where only the
 * user's own will do. A copied example validates, renders and even starts a `pulumi up` with
 * them, so the program warns (never fails: the examples must render) on every one still there.
 * tests/config/placeholders.test.ts holds this list and the example files to each other.
 */
export interface Placeholder {
  key: string;
  /** The example's value: the whole value, a list item, or (for keys) the base64 word. */
  value: string;
  /** What to put there instead. */
  instead: string;
}

export const PLACEHOLDERS: readonly Placeholder[] = [
  { key: "network", value: "my-project-network", instead: "your project's network (`openstack network list`)" },
  { key: "sshPublicKey", value: "AAAAC3NzaC1lZDI1NTE5AAAAIIpEv4uMcbOLzytgkrpX2BXl0eivKchmUVOQWxaP/QFv", instead: "your own public key (`cat ~/.ssh/id_ed25519.pub`)" },
  { key: "sshIngressCidrs", value: "198.51.100.0/24", instead: "the range you connect from (198.51.100.0/24 is reserved for documentation)" },
  { key: "cadcUser", value: "astronomer", instead: "your CADC user name" },
  { key: "vospace", value: "vos:astronomer/catalogues", instead: "your VOSpace folder (vos:<your CADC user>/...)" },
  { key: "batchHostKey", value: "AAAAC3NzaC1lZDI1NTE5AAAAIE7f2d9b1QmW6Jc0S1dY3b7g2Z0y8fG4uKpQm9vR1sTb", instead: "the batch host's own key (docs/host-keys.md)" },
  { key: "openstackProjectName", value: "my-project", instead: "OS_PROJECT_NAME from your project's OpenStack RC file" },
  { key: "openstackProjectId", value: "0123456789abcdef0123456789abcdef", instead: "OS_PROJECT_ID from your project's OpenStack RC file" },
];

/** The words and list items of a raw value (lists arrive as JSON text). */
function partsOf(value: string): string[] {
  if (value.startsWith("[")) {
    try {
      const items: unknown = JSON.parse(value);
      if (Array.isArray(items)) return items.filter((i): i is string => typeof i === "string");
    } catch {
      // Not a list after all: its words, as for any other value.
    }
  }
  return value.trim().split(/\s+/);
}

/**
 * One warning naming every `canfar:*` value (raw, without namespace) still equal to the
 * example's placeholder, or undefined when none is.
 */
export function placeholderWarning(raw: Readonly<Record<string, string>>): string | undefined {
  const found = PLACEHOLDERS.filter((p) => raw[p.key] !== undefined && partsOf(raw[p.key] as string).includes(p.value));
  if (found.length === 0) return undefined;
  const lines = found.map((p) => `  - canfar:${p.key}: still the example's ${p.value.length > 32 ? `${p.value.slice(0, 20)}...` : `'${p.value}'`}; set ${p.instead}`);
  return `${found.length === 1 ? "a value is" : `${found.length} values are`} still the example stack's placeholder${found.length === 1 ? "" : "s"} (fine for an offline render; \`pulumi up\` would use ${found.length === 1 ? "it" : "them"}):\n${lines.join("\n")}`;
}
