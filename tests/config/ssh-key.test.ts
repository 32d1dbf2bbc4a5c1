import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { publicKeyProblem } from "../../domain/ssh-key";
import { validateSettings } from "../../config/schema";
import { VALID_RAW, VALID_SECRETS } from "../fixtures/stack-config";
import { missing } from "../support/requirements";

const work = mkdtempSync(join(tmpdir(), "ssh-key-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A real public key line from ssh-keygen: `type base64 comment`. */
let made = 0;
function keygen(type: string, bits?: number): [string, string] {
  const path = join(work, `${type}-${bits ?? "default"}-${made++}`);
  execFileSync("ssh-keygen", ["-q", "-t", type, ...(bits ? ["-b", String(bits)] : []), "-N", "", "-C", "test", "-f", path]);
  const [t, b64] = readFileSync(`${path}.pub`, "utf8").trim().split(" ");
  return [t as string, b64 as string];
}

/** SSH wire-format strings, concatenated: to build blobs ssh-keygen would never write. */
function wire(...fields: Array<string | Buffer>): string {
  return Buffer.concat(
    fields.flatMap((f) => {
      const bytes = typeof f === "string" ? Buffer.from(f, "latin1") : f;
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  ).toString("base64");
}

describe.skipIf(missing({ commands: ["ssh-keygen"] }))("an OpenSSH public key, decoded and checked", () => {
  const ed25519 = keygen("ed25519");
  const ecdsa = [256, 384, 521].map((b) => keygen("ecdsa", b));

  it("accepts whole keys from ssh-keygen: ed25519, RSA 2048 and 4096, ECDSA on each curve", () => {
    for (const [type, b64] of [ed25519, keygen("rsa", 2048), keygen("rsa", 4096), ...ecdsa]) expect(publicKeyProblem(type, b64), type).toBeUndefined();
  });

  it("a key wrapped over two lines (a space inside the base64) says so", () => {
    const [type, b64] = ed25519;
    expect(publicKeyProblem(type, b64.slice(0, 40), b64.slice(40))).toBe(
      "has a space inside its base64 (was it wrapped over two lines?); expected the whole key on one line, as `cat ~/.ssh/id_ed25519.pub` prints it",
    );
  });

  it("a truncated key, junk base64, a blob of another type than the line says", () => {
    const [type, b64] = ed25519;
    expect(publicKeyProblem(type, b64.slice(0, 41))).toBe("is not a whole ssh-ed25519 key: its base64 is not valid base64 (its length or padding is off: cut short, or a character lost or added)");
    expect(publicKeyProblem(type, b64.slice(0, 40))).toBe("is not a whole ssh-ed25519 key: its base64 is cut short: the ssh-ed25519 key it encodes is incomplete");
    expect(publicKeyProblem(type, wire("ssh-ed25519", Buffer.alloc(31)))).toBe("is not a whole ssh-ed25519 key: its base64 holds a 31-byte key where ssh-ed25519 has 32 bytes");
    expect(publicKeyProblem(type, "AAAAC3NzaC1lZDI1NTE5")).toBe("is not a whole ssh-ed25519 key: its base64 is cut short: the ssh-ed25519 key it encodes is incomplete");
    expect(publicKeyProblem(type, "bm90IGEga2V5IGF0IGFsbA==")).toMatch(/^is not a whole ssh-ed25519 key: its base64 (is cut short|encodes a)/);
    const [, rsa] = keygen("rsa", 2048);
    expect(publicKeyProblem("ssh-ed25519", rsa)).toBe("is not a whole ssh-ed25519 key: its base64 encodes a 'ssh-rsa' key, but the line says ssh-ed25519: the type and the key come from different keys");
    expect(publicKeyProblem("ssh-ed25519", `${b64.slice(0, -1)}A`)).toBeUndefined(); // still 32 bytes: a changed byte is another key, which no decoding can tell
  });

  it("RSA shorter than 2048 bits, ECDSA with the wrong curve or point, bytes after the key", () => {
    expect(publicKeyProblem(...keygen("rsa", 1024))).toBe("is not a whole ssh-rsa key: its base64 holds a 1024-bit RSA key; expected at least 2048 bits (or an ed25519 key: `ssh-keygen -t ed25519`)");
    const point = Buffer.alloc(65, 1);
    point[0] = 4;
    expect(publicKeyProblem("ecdsa-sha2-nistp256", wire("ecdsa-sha2-nistp256", "nistp384", point))).toBe(
      "is not a whole ecdsa-sha2-nistp256 key: its base64 names the curve 'nistp384' where ecdsa-sha2-nistp256 uses nistp256",
    );
    expect(publicKeyProblem("ecdsa-sha2-nistp384", wire("ecdsa-sha2-nistp384", "nistp384", point))).toBe(
      "is not a whole ecdsa-sha2-nistp384 key: its base64 holds a 65-byte point where nistp384 has an uncompressed 97-byte one",
    );
    expect(publicKeyProblem("ecdsa-sha2-nistp256", wire("ecdsa-sha2-nistp256", "nistp256", point))).toBeUndefined();
    expect(publicKeyProblem("ssh-ed25519", wire("ssh-ed25519", Buffer.alloc(32), "extra"))).toBe("is not a whole ssh-ed25519 key: its base64 has bytes after the ssh-ed25519 key it encodes");
  });
});

describe("canfar:sshPublicKey and canfar:batchHostKey hold whole keys", () => {
  const problems = (raw: Record<string, string>) => {
    const r = validateSettings({ ...VALID_RAW, ...raw }, VALID_SECRETS);
    return r.ok ? [] : r.problems;
  };
  const [type, b64, comment] = VALID_RAW.sshPublicKey.split(" ") as [string, string, string];

  it("the fixture's keys are whole", () => {
    expect(problems({})).toEqual([]);
  });

  it("a wrapped public key, by key", () => {
    // What YAML makes of a key wrapped over two lines: the lines joined by a space.
    expect(problems({ sshPublicKey: `${type} ${b64.slice(0, 30)} ${b64.slice(30)} ${comment}` })).toEqual([
      ["sshPublicKey", "has a space inside its base64 (was it wrapped over two lines?); expected the whole key on one line, as `cat ~/.ssh/id_ed25519.pub` prints it"],
    ]);
  });

  it("a key refused by its pattern gets that one message only", () => {
    expect(problems({ sshPublicKey: "not a key" })).toEqual([["sshPublicKey", "expected one OpenSSH public key line (ssh-ed25519 AAAA... comment)"]]);
  });

  it("the batch host's key, with or without its host name, and its type checked", () => {
    const [, hostType, hostB64] = VALID_RAW.batchHostKey.split(" ") as [string, string, string];
    expect(problems({ batchHostKey: `${hostType} ${hostB64}` })).toEqual([]);
    expect(problems({ batchHostKey: `batch.canfar.net ${hostType} ${hostB64.slice(0, 40)}` })[0]?.[0]).toBe("batchHostKey");
    expect(problems({ batchHostKey: `batch.canfar.net ssh-rsa ${hostB64}` })).toEqual([
      ["batchHostKey", "is not a whole ssh-rsa key: its base64 encodes a 'ssh-ed25519' key, but the line says ssh-rsa: the type and the key come from different keys"],
    ]);
  });
});
