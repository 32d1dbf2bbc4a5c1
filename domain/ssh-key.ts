/**
 * What an OpenSSH public key's base64 must hold to be a key at all: a line that only looks
 * like one (wrapped over two YAML lines, cut short, pasted from another key) passes a pattern
 * and fails an hour later at OpenStack's key pair import or at the batch host's first SSH.
 * The blob is the key in SSH's wire format (RFC 4253 §6.6, RFC 5656 §3.1, OpenSSH PROTOCOL.u2f):
 * the type again, then the key's own fields.
 */

/** The smallest RSA modulus accepted: what NIST and current OpenSSH releases recommend. */
export const RSA_MIN_BITS = 2048;

/** An ECDSA curve's uncompressed point: 0x04, then x and y. */
const EC_POINT_BYTES: Record<string, number> = { nistp256: 65, nistp384: 97, nistp521: 133 };

/** Reads SSH wire-format strings one after the other; undefined once the blob runs out. */
class Reader {
  private at = 0;
  constructor(private readonly blob: Buffer) {}

  string(): Buffer | undefined {
    if (this.at + 4 > this.blob.length) return undefined;
    const length = this.blob.readUInt32BE(this.at);
    if (this.at + 4 + length > this.blob.length) return undefined;
    const value = this.blob.subarray(this.at + 4, this.at + 4 + length);
    this.at += 4 + length;
    return value;
  }

  get done(): boolean {
    return this.at === this.blob.length;
  }
}

/** The bits of an mpint (big-endian, a leading zero byte keeping it positive). */
function bits(mpint: Buffer): number {
  let i = 0;
  while (i < mpint.length && mpint[i] === 0) i++;
  if (i === mpint.length) return 0;
  return (mpint.length - i - 1) * 8 + (32 - Math.clz32(mpint[i] as number));
}

/** What the fields after the type say is wrong, or undefined for a whole key of that type. */
function fieldsProblem(type: string, r: Reader): string | undefined {
  const short = `is cut short: the ${type} key it encodes is incomplete`;
  if (type === "ssh-ed25519" || type === "sk-ssh-ed25519@openssh.com") {
    const key = r.string();
    if (key === undefined) return short;
    if (key.length !== 32) return `holds a ${key.length}-byte key where ${type} has 32 bytes`;
    if (type.startsWith("sk-") && r.string() === undefined) return short;
  } else if (type === "ssh-rsa") {
    const exponent = r.string();
    const modulus = r.string();
    if (exponent === undefined || modulus === undefined) return short;
    if (bits(exponent) < 2) return "holds an RSA key without a usable exponent";
    const size = bits(modulus);
    if (size < RSA_MIN_BITS) return `holds a ${size}-bit RSA key; expected at least ${RSA_MIN_BITS} bits (or an ed25519 key: \`ssh-keygen -t ed25519\`)`;
  } else {
    const curve = /^(?:sk-)?ecdsa-sha2-(nistp\d+)(?:@openssh\.com)?$/.exec(type)?.[1];
    const expected = curve === undefined ? undefined : EC_POINT_BYTES[curve];
    if (curve === undefined || expected === undefined) return `is of type ${type}, which this program does not take`;
    const named = r.string();
    const point = r.string();
    if (named === undefined || point === undefined) return short;
    if (named.toString("latin1") !== curve) return `names the curve '${printable(named)}' where ${type} uses ${curve}`;
    if (point.length !== expected || point[0] !== 4) return `holds a ${point.length}-byte point where ${curve} has an uncompressed ${expected}-byte one`;
    if (type.startsWith("sk-") && r.string() === undefined) return short;
  }
  return r.done ? undefined : `has bytes after the ${type} key it encodes`;
}

/** A type name from a blob, safe to show: printable ASCII, short. */
function printable(bytes: Buffer): string {
  const text = bytes.subarray(0, 40).toString("latin1");
  return /^[\x21-\x7e]*$/.test(text) ? text : "(not text)";
}

/** The base64 is standard and padded (what ssh-keygen writes), and decodes to exactly itself. */
function decoded(base64: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || base64.length % 4 !== 0) return undefined;
  const blob = Buffer.from(base64, "base64");
  return blob.toString("base64") === base64 ? blob : undefined;
}

/** Why the blob is not a whole key of `type`, or undefined when it is. */
function blobProblem(type: string, base64: string): string | undefined {
  const blob = decoded(base64);
  if (blob === undefined) return "is not valid base64 (its length or padding is off: cut short, or a character lost or added)";
  const r = new Reader(blob);
  const embedded = r.string();
  if (embedded === undefined) return `is cut short: the ${type} key it encodes is incomplete`;
  if (embedded.toString("latin1") !== type) return `encodes a '${printable(embedded)}' key, but the line says ${type}: the type and the key come from different keys`;
  return fieldsProblem(type, r);
}

/**
 * Why `type base64` is not a whole OpenSSH public key, or undefined when it is. `next` is the
 * word after the base64 (a comment, usually): when the base64 and it join into a whole key,
 * the line was wrapped, and the message says so.
 */
export function publicKeyProblem(type: string, base64: string, next?: string): string | undefined {
  const problem = blobProblem(type, base64);
  if (problem === undefined) return undefined;
  if (next !== undefined && /^[A-Za-z0-9+/]+={0,2}$/.test(next) && blobProblem(type, base64 + next) === undefined) {
    return `has a space inside its base64 (was it wrapped over two lines?); expected the whole key on one line, as \`cat ~/.ssh/id_ed25519.pub\` prints it`;
  }
  return `is not a whole ${type} key: its base64 ${problem}`;
}
