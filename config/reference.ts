import { DEFAULTS, KNOWN_KEYS, NAMESPACE, SECRET_KEYS } from "./schema";

/**
 * What each key is for, its default and what changing it after the build does (Magic
 * Castle documents its variables this way). The README's table is generated from this
 * (`npm run config-reference`); a test keeps it complete and the README in step.
 */
const code = (value: string) => `\`${value}\``;

export const REFERENCE: Record<string, { what: string; default?: string; onChange: string }> = {
  cloud: { what: "clouds.yaml entry (OS_CLOUD) used by the OpenStack provider and CLI", default: code(DEFAULTS.cloud), onChange: "everything is recreated in the other cloud" },
  image: { what: "base image of the build VM; the most recent image of that name", default: code(DEFAULTS.image), onChange: "replaces the build VM" },
  distro: { what: "`ubuntu`, `debian` or `rocky`: package names and default login", default: "from the image name", onChange: "replaces the build VM" },
  defaultUser: { what: "the image's default login, holding the injected key", default: "from the distro", onChange: "re-runs provisioning" },
  flavor: { what: "build VM flavor; needs an ephemeral disk (`c*`, not `p*`)", default: code(DEFAULTS.flavor), onChange: "replaces the build VM" },
  network: { what: "project network the VM's port is created on (`openstack network list`)", onChange: "replaces port and VM" },
  floatingIpPool: { what: "external network a floating IP is allocated from; conflicts with `floatingIp`", default: code(DEFAULTS.floatingIpPool), onChange: "a new address" },
  floatingIp: { what: "an address the project already holds, adopted (never released by destroy)", default: "unset: allocate", onChange: "moves the association" },
  sshPublicKey: { what: "OpenSSH public key imported as the key pair", onChange: "new key pair; replaces the build VM" },
  sshPrivateKey: { what: "the matching private key, for provisioning over SSH", onChange: "nothing on the cloud" },
  sshIngressCidrs: { what: "CIDRs allowed to reach SSH (list)", onChange: "updates the security group rules" },
  allowSshFromAnywhere: { what: "opt-in for `0.0.0.0/0` or `::/0` in `sshIngressCidrs`", default: code("false"), onChange: "none by itself" },
  cadcUser: { what: "CADC user name: created on the VM, used for CADC and VOSpace", onChange: "re-runs provisioning from the user step" },
  cadcPassword: { what: "CADC password: `~/.netrc` on the VM, for `cadc-get-cert`", onChange: "re-runs the credentials step" },
  vospace: { what: "VOSpace folder the catalogues are uploaded to (`vos:...`)", onChange: "a new submission" },
  observationIds: { what: "CFHT exposure IDs to process, one job each (list)", default: code(DEFAULTS.observationIds.join(", ")), onChange: "a new submission" },
  upgradePackages: { what: "upgrade every package of the build VM (apt dist-upgrade / dnf update)", default: code("false"), onChange: "replaces the build VM" },
  extraPackages: { what: "packages installed beside source-extractor and funpack (list)", default: "none", onChange: "replaces the build VM" },
  scratchDevice: { what: "ephemeral disk mounted on /mnt when nothing is", default: code(DEFAULTS.scratchDevice), onChange: "re-runs the scratch step" },
  snapshotPrefix: { what: "worker image name prefix: `<prefix>-<date>-<content hash>`", default: code(DEFAULTS.snapshotPrefix), onChange: "a new image" },
  snapshotTimeoutSeconds: { what: "how long to wait for the image to become `active`", default: code(String(DEFAULTS.snapshotTimeoutSeconds)), onChange: "none by itself" },
  keepImageOnDestroy: { what: "keep the worker image when the stack is destroyed", default: code("true"), onChange: "none by itself" },
  deleteBuildVmAfterSnapshot: { what: "delete the build VM once the image is active (see *Snapshot* below)", default: code("false"), onChange: "deletes the build VM" },
  batchHost: { what: "CANFAR batch host to submit from; unset: build the image, submit nothing", default: "unset", onChange: "a new submission there" },
  batchUser: { what: "login on the batch host", default: "`cadcUser`", onChange: "a new submission" },
  batchPort: { what: "SSH port of the batch host", default: code("22"), onChange: "a new submission" },
  submitMode: { what: "`csv1` (`canfar_submit JOB IMAGE FLAVOR`, OpenStack credentials passed) or `csv2` (`canfar_submit JOB IMAGE`)", default: code("csv1"), onChange: "a new submission" },
  workerFlavor: { what: "flavor of the workers the jobs run on; requests in the submit file fit it", default: "`flavor`", onChange: "a new submission" },
  openstackAuthUrl: { what: "Keystone URL given to `canfar_submit` (csv1)", default: "required for csv1", onChange: "a new submission" },
  openstackProjectName: { what: "OpenStack project name given to `canfar_submit` (csv1)", default: "required for csv1", onChange: "a new submission" },
  openstackUserDomainName: { what: "Keystone user domain given to `canfar_submit` (csv1), as `OS_USER_DOMAIN_NAME` in your RC file", default: "unset: not passed", onChange: "a new submission" },
  openstackProjectId: { what: "OpenStack project ID given to `canfar_submit` (csv1)", default: "required for csv1", onChange: "a new submission" },
};

/** The README's config reference table; `default` absent means the key is required. */
export function referenceTable(): string {
  const rows = KNOWN_KEYS.map((key) => {
    const r = REFERENCE[key];
    const secret = (SECRET_KEYS as readonly string[]).includes(key) ? " **Secret.**" : "";
    const dflt = r.default ?? "*required*";
    return `| \`${NAMESPACE}:${key}\` | ${r.what}.${secret} | ${dflt} | ${r.onChange} |`;
  });
  return ["| key | what | default | changing it later |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

const START = "<!-- config-reference:start -->";
const END = "<!-- config-reference:end -->";

/** The README text with the table between its markers replaced by the current one. */
export function withReference(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md: markers ${START} … ${END} not found`);
  return `${readme.slice(0, start + START.length)}\n${referenceTable()}\n${readme.slice(end)}`;
}
