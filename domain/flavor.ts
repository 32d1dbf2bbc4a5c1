/**
 * Arbutus flavor names carry their size: `c2-7.5gb-30` is 2 vCPUs, 7.5 GB of RAM and a
 * 30 GB ephemeral disk (mounted on /mnt); `p8-12gb` is a persistent flavor with no
 * ephemeral disk. The submit file and the config check both read sizes from the name.
 */
export interface Flavor {
  vcpus: number;
  ramGb: number;
  /** 0 for persistent (`p*`) flavors: they have no /mnt disk. */
  ephemeralGb: number;
  persistent: boolean;
}

const FLAVOR_NAME = /^([cp])([1-9][0-9]*)-([0-9]+(?:\.[0-9]+)?)gb(?:-([1-9][0-9]*))?$/;

/** Parses a flavor name strictly; returns a message saying what was expected when it is not one. */
export function parseFlavor(name: string): Flavor | string {
  const m = FLAVOR_NAME.exec(name);
  const expected = "expected <c|p><vCPUs>-<RAM>gb[-<ephemeral GB>], e.g. c2-7.5gb-30 or p8-12gb";
  if (m === null) return `'${name}' is not a flavor name: ${expected}`;
  const [, kind, cpus, ram, disk] = m;
  const persistent = kind === "p";
  if (persistent && disk !== undefined) {
    return `'${name}': persistent (p*) flavors have no ephemeral disk, so no -<GB> suffix: ${expected}`;
  }
  if (!persistent && disk === undefined) {
    return `'${name}': compute (c*) flavors name their ephemeral disk size: ${expected}`;
  }
  const ramGb = Number(ram);
  if (ramGb <= 0) return `'${name}': RAM must be more than 0 GB`;
  return { vcpus: Number(cpus), ramGb, ephemeralGb: disk === undefined ? 0 : Number(disk), persistent };
}
