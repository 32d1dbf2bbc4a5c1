import type * as pulumi from "@pulumi/pulumi";
import { basename } from "node:path";
import { inPlaceCommand, SCRIPTS, type Script } from "../provisioning/scripts";

/**
 * Offline stand-ins for what OpenStack would answer. Addresses come from TEST-NET-3
 * (203.0.113.0/24, RFC 5737) so a rendered plan can never be mistaken for a real cloud.
 * Unknown tokens throw: a resource type this file does not know about is a change the
 * renderer (and its tests) must learn about, not something to paper over.
 */
const COMPUTED: Record<string, (name: string, inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "pulumi:providers:openstack": () => ({}),
  "pulumi:providers:command": () => ({}),
  "openstack:compute/keypair:Keypair": () => ({ fingerprint: "SHA256:offline-render" }),
  "openstack:networking/secGroup:SecGroup": () => ({}),
  "openstack:networking/secGroupRule:SecGroupRule": () => ({}),
  "openstack:networking/port:Port": (name) => ({ allFixedIps: [defaultFixedIp(name)] }),
  // The build VM's address as it always was; the submit node's another.
  "openstack:networking/floatingIp:FloatingIp": (name) => ({ address: name === "access-fip" ? "203.0.113.10" : "203.0.113.11" }),
  "openstack:networking/floatingIpAssociate:FloatingIpAssociate": (_n, i) => ({ floatingIp: i.floatingIp }),
  "openstack:compute/instance:Instance": () => ({ accessIpV4: "10.0.0.10", powerState: "active" }),
  "command:remote:CopyToRemote": () => ({}),
  "command:remote:Command": (_n, i) => ({ stdout: remoteStdout(String(i.create ?? "")), stderr: "" }),
  "command:local:Command": (name, i) => ({ stdout: localStdout(name, String(i.create ?? ""), i.environment), stderr: "" }),
};

/**
 * The build VM's port has 10.0.0.10, as it always had; the pool's ports get addresses of
 * their own, from their names, so the workers' central manager is visibly the submit node.
 */
function defaultFixedIp(portName: string): string {
  if (portName === "access-port") return "10.0.0.10";
  const digest = [...portName].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 200, 7);
  return `10.0.0.${20 + digest}`;
}

/**
 * Whether a remote command runs `script`: `bash 'DIR/NAME' …` as the components write it (each
 * word quoted, `bash` too, for the staged ones), maybe under `sudo -n`.
 */
function runsRemote(create: string, script: Script): boolean {
  const path = /^(?:sudo -n )?'?bash'? '([^']+)'/.exec(create)?.[1];
  return path !== undefined && basename(path) === script.name;
}

/** What the scripts print on success, as far as the program reads it. */
function remoteStdout(create: string): string {
  if (runsRemote(create, SCRIPTS.submit)) {
    const runDir = /--run-dir '([^']*)'/.exec(create)?.[1] ?? "run";
    const pipeline = /--pipeline ([0-9a-f]{12})/.exec(create)?.[1] ?? "000000000000";
    return `${JSON.stringify({ cluster: "0", jobs: 0, total: 0, done: 0, pipeline, runDir })}\n`;
  }
  if (runsRemote(create, SCRIPTS.packageVersions)) return "offline-render=0 ";
  return "";
}

/**
 * A stand-in for the build VM's generated host key: it has the shape the program parses,
 * is no usable key, and carries the placeholder mark, so a render shows it as a secret.
 */
export const OFFLINE_HOST_KEY = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "offline-render-placeholder-000000000000",
  "-----END OPENSSH PRIVATE KEY-----",
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG9mZmxpbmUtcmVuZGVyLWhvc3Qta2V5LTAwMDAwMDAw offline-render",
  "",
].join("\n");

function localStdout(name: string, create: string, environment: unknown): string {
  const env = (environment ?? {}) as Record<string, string>;
  if (create === inPlaceCommand(SCRIPTS.generateHostKey)) return OFFLINE_HOST_KEY;
  // The base image pin prints the id it was given.
  if (create === `printf '%s' "$BASE_IMAGE_ID"`) return env.BASE_IMAGE_ID ?? "";
  if (!create.startsWith(`${inPlaceCommand(SCRIPTS.makeImage)} `)) return "";
  // The real name carries the UTC date of creation, which an offline render cannot know.
  const imageName = `${env.IMAGE_PREFIX}-YYYY-MM-DD-${env.CONTENT_TAG}`;
  return `${JSON.stringify({ id: `${name}-id`, name: imageName, status: "active" })}\n`;
}

const CALLS: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>> = {
  "openstack:images/getImage:getImage": (i) => ({ id: `image-${String(i.name)}`, name: i.name, status: "active" }),
  "openstack:networking/getNetwork:getNetwork": (i) => ({ id: `network-${String(i.name)}`, name: i.name }),
  // The project network's one IPv4 subnet, holding the ports' addresses above.
  "openstack:networking/getSubnet:getSubnet": (i) => ({ id: `subnet-of-${String(i.networkId)}`, networkId: i.networkId, cidr: DEFAULT_SUBNET_CIDR, ipVersion: 4 }),
  "openstack:networking/getFloatingIp:getFloatingIp": (i) => ({ id: `fip-${String(i.address)}`, address: i.address }),
};

/** The project network's one IPv4 subnet, as the offline render has always shown it. */
export const DEFAULT_SUBNET_CIDR = "10.0.0.0/24";

/** What a test may answer instead of the stand-ins (a real generated host key, say). */
export interface MockOverrides {
  /** The stdout of a local.Command, or undefined for the default stand-in. */
  localStdout?: (name: string, create: string, environment: Record<string, string>) => string | undefined;
  /** The stdout of a remote.Command (submit.sh's answer, say), or undefined for the default stand-in. */
  remoteStdout?: (create: string) => string | undefined;
  /**
   * The project network as a test's hosts have it (the self-hosted pool test's roots live on
   * 127.0.10.x): the subnet's CIDR, and a port's fixed IP by the port's resource name
   * (undefined for the default). Unset, the render answers DEFAULT_SUBNET_CIDR and 10.0.0.x.
   */
  network?: { subnetCidr: string; fixedIp: (portName: string) => string | undefined };
}

export const offlineMocks: pulumi.runtime.Mocks = withOverrides({});

export function withOverrides(overrides: MockOverrides): pulumi.runtime.Mocks {
  return {
    newResource(args: pulumi.runtime.MockResourceArgs) {
      const ip = args.type === "openstack:networking/port:Port" ? overrides.network?.fixedIp(args.name) : undefined;
      if (ip !== undefined) return { id: `${args.name}-id`, state: { ...(args.inputs as Record<string, unknown>), allFixedIps: [ip] } };
      if (args.type === "command:local:Command" && overrides.localStdout) {
        const inputs = args.inputs as Record<string, unknown>;
        const stdout = overrides.localStdout(args.name, String(inputs.create ?? ""), (inputs.environment ?? {}) as Record<string, string>);
        if (stdout !== undefined) return { id: `${args.name}-id`, state: { ...inputs, stdout, stderr: "" } };
      }
      if (args.type === "command:remote:Command" && overrides.remoteStdout) {
        const inputs = args.inputs as Record<string, unknown>;
        const stdout = overrides.remoteStdout(String(inputs.create ?? ""));
        if (stdout !== undefined) return { id: `${args.name}-id`, state: { ...inputs, stdout, stderr: "" } };
      }
      return defaultNewResource(args);
    },
    call(args: pulumi.runtime.MockCallArgs) {
      const answer = defaultCall(args);
      if (args.token !== "openstack:networking/getSubnet:getSubnet" || overrides.network === undefined) return answer;
      return { ...answer, cidr: overrides.network.subnetCidr };
    },
  };
}

function defaultNewResource(args: pulumi.runtime.MockResourceArgs) {
  // Components (the stack itself, canfar:index:*) have no cloud side to stand in for.
  if (args.custom === false) return { id: undefined, state: args.inputs as Record<string, unknown> };
  const computed = COMPUTED[args.type];
  if (!computed) throw new Error(`offline render: no mock for resource type '${args.type}' (offline/mocks.ts)`);
  const inputs = args.inputs as Record<string, unknown>;
  return { id: `${args.name}-id`, state: { ...inputs, ...computed(args.name, inputs) } };
}

function defaultCall(args: pulumi.runtime.MockCallArgs) {
  const answer = CALLS[args.token];
  if (!answer) throw new Error(`offline render: no mock for function '${args.token}' (offline/mocks.ts)`);
  return answer(args.inputs as Record<string, unknown>);
}

