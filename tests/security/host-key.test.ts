import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PlannedResource } from "../../offline/capture";
import { BUILD_VM_RECIPE, cachedRoot, mountOverlay, type RootHandle } from "../../harness/debian-root";
import { missing } from "../support/requirements";
import { addSshUser, writeRootFile } from "../../harness/root-files";
import { hostKeyRefusal, startSshd, sshRun, type SshdHandle } from "../../harness/sshd";
import { join } from "node:path";
import { parseHostKey } from "../../build/host-key";
import { execOk } from "../../harness/exec";
import { newKey, PASSWORD, resourcesFor } from "../system/build-vm";
import type { SshKey } from "../../harness/ssh-key";

// Impostors: an sshd with a host key of its own answers where the build VM (and, separately,
// the batch host) should be. The program's connections pin the real keys, so provisioning
// and submission, replayed as declared with a real SSH client verifying the pinned key,
// must refuse before sending anything: the impostor records every command and every byte
// of stdin it is given, and must end with nothing, the CADC password least of all.
const why = missing({ root: true, commands: ["debootstrap", "unshare", "ssh", "ssh-keygen"] });

const RECORDER = `#!/bin/sh
# ForceCommand of the impostor: keeps what a client sent, then answers as if all went well.
{ printf 'command: %s\\n' "$SSH_ORIGINAL_COMMAND"; cat; printf '\\n'; } >> /var/log/impostor.log
`;

interface Impostor {
  root: RootHandle;
  sshd: SshdHandle;
  received(): Promise<string>;
}

async function impostor(users: readonly string[], publicKey: string): Promise<Impostor> {
  const root = await mountOverlay(await cachedRoot(BUILD_VM_RECIPE));
  for (const u of users) await addSshUser(root, u, publicKey);
  await writeRootFile(root, "/usr/local/bin/record-session", RECORDER, "755");
  await root.runOk("install -m 666 /dev/null /var/log/impostor.log");
  // Its own host keys: ssh-keygen -A makes them, as on any other machine.
  const sshd = await startSshd(root, { options: ["ForceCommand=/usr/local/bin/record-session", "LogLevel=VERBOSE"] });
  return { root, sshd, received: async () => (await root.runOk("cat /var/log/impostor.log")).stdout };
}

const named = (resources: readonly PlannedResource[], name: string) => {
  const r = resources.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r.inputs as { create: string; stdin?: string; connection: { host: string; user: string; hostKey: string } };
};

describe.skipIf(why)("an impostor at the address of a pinned host", () => {
  let key: SshKey;
  let fake: Impostor;
  let resources: PlannedResource[];
  let batchKey: string;

  beforeAll(async () => {
    key = (await newKey()).key;
    fake = await impostor(["ubuntu", "astronomer"], key.publicKey);
    // The genuine batch host's key (canfar:batchHostKey): a key of its own, not the impostor's.
    const genuine = (await execOk(["bash", join(__dirname, "..", "..", "provisioning", "local", "generate-host-key.sh")])).stdout;
    batchKey = parseHostKey(genuine).publicKey;
    resources = await resourcesFor(key, {
      "canfar:batchHost": "127.0.0.1",
      "canfar:batchPort": String(fake.sshd.port),
      "canfar:batchUser": "astronomer",
      "canfar:batchHostKey": `127.0.0.1 ${batchKey}`,
    });
  }, 600_000);

  afterAll(async () => {
    await fake?.sshd.stop();
    await fake?.root.cleanup();
  });

  it("the impostor really shows another key, and really records what it is sent", async () => {
    expect(fake.sshd.hostKey).not.toBe(named(resources, "provision-cadc-credentials").connection.hostKey);
    // A client that trusts the impostor's own key gets through, and the recorder keeps it all.
    const trusting = await sshRun({ port: fake.sshd.port, user: "ubuntu", keyPath: key.privateKeyPath, hostKey: fake.sshd.hostKey }, "echo probe", "probe-stdin");
    expect(trusting.code, trusting.stderr).toBe(0);
    expect(await fake.received()).toBe("command: echo probe\nprobe-stdin\n");
    await fake.root.runOk(": > /var/log/impostor.log");
  });

  it("provisioning refuses it at the build VM's address, naming the host and the expected key, and sends nothing", async () => {
    const logBefore = fake.sshd.log().length;
    for (const step of ["provision-stage-ubuntu", "provision-cadc-credentials"]) {
      const declared = named(resources, step);
      const pinned = declared.connection.hostKey;
      expect(pinned).toMatch(/^ssh-ed25519 AAAA/);
      const r = await sshRun({ port: fake.sshd.port, user: declared.connection.user, keyPath: key.privateKeyPath, hostKey: pinned }, declared.create, declared.stdin);
      expect(r.code, step).toBe(255);
      expect(hostKeyRefusal(fake.sshd.port, pinned, r.stderr), `${step}: ${r.stderr}`).toBe(`refused 127.0.0.1:${fake.sshd.port}: its host key is not the pinned ${pinned}`);
    }
    expect(named(resources, "provision-cadc-credentials").stdin).toBe(PASSWORD);
    expect(await fake.received()).toBe("");
    expect(fake.sshd.log().slice(logBefore)).not.toMatch(/Accepted publickey/);
  });

  it("the submission refuses it at the batch host's address, and the password never arrives", async () => {
    const logBefore = fake.sshd.log().length;
    const submit = named(resources, "batch-submit");
    expect(submit.connection.hostKey).toBe(batchKey);
    expect(submit.stdin).toContain(`OS_PASSWORD=${PASSWORD}`);
    for (const step of ["batch-deliver-submit-sh", "batch-submit"]) {
      const declared = named(resources, step);
      const r = await sshRun({ port: fake.sshd.port, user: declared.connection.user, keyPath: key.privateKeyPath, hostKey: declared.connection.hostKey }, declared.create, declared.stdin);
      expect(r.code, step).toBe(255);
      expect(hostKeyRefusal(fake.sshd.port, batchKey, r.stderr), r.stderr).toBe(`refused 127.0.0.1:${fake.sshd.port}: its host key is not the pinned ${batchKey}`);
    }
    const received = await fake.received();
    expect(received).toBe("");
    expect(received).not.toContain(PASSWORD);
    expect(fake.sshd.log().slice(logBefore)).not.toMatch(/Accepted publickey/);
  });
});
