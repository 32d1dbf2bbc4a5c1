/** Where the build VM's public address comes from: a new one from a pool, or one the project holds. */
export type FloatingIpChoice = { kind: "allocate"; pool: string } | { kind: "adopt"; address: string };
