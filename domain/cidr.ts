import { isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  family: "IPv4" | "IPv6";
  address: string;
  prefix: number;
}

/** True for the prefixes that open a port to the whole Internet. */
export function isAnywhere(cidr: Cidr): boolean {
  return cidr.prefix === 0;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6ToBigInt(address: string): bigint {
  // Expand "::" so every address has eight groups; an embedded IPv4 tail becomes two groups.
  let text = address;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const v4 = ipv4ToBigInt(v4Tail[1]);
    text = `${text.slice(0, v4Tail.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail === undefined ? [] : Array(8 - headGroups.length - tailGroups.length).fill("0");
  return [...headGroups, ...fill, ...tailGroups].reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/**
 * Parses `a.b.c.d/n` or `x:y::/n`. Returns a message instead of throwing so the schema can
 * report it against the right key. Host bits must be zero: Neutron would otherwise store a
 * different rule than the one written, and a later diff would never settle.
 */
export function parseCidr(text: string): Cidr | string {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text);
  if (!match) return `'${text}' is not in CIDR notation (address/prefix, e.g. 203.0.113.0/24)`;
  const [, address, prefixText] = match;
  const prefix = Number(prefixText);
  const family = isIPv4(address) ? "IPv4" : isIPv6(address) ? "IPv6" : undefined;
  if (!family) return `'${address}' in '${text}' is not an IPv4 or IPv6 address`;
  const bits = family === "IPv4" ? 32 : 128;
  if (prefix > bits) return `prefix /${prefix} in '${text}' is longer than ${bits} bits`;
  const value = family === "IPv4" ? ipv4ToBigInt(address) : ipv6ToBigInt(address);
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  if ((value & hostMask) !== 0n) {
    return `'${text}' has host bits set; write the network address of that /${prefix}`;
  }
  return { family, address, prefix };
}
