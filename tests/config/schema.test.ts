import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DEFAULTS, validateSettings } from "../../config/schema";
import { VALID_RAW, VALID_SECRETS } from "../fixtures/stack-config";

/** The valid fixture with `overrides`; an undefined value removes the key. */
function rawOf(overrides: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries({ ...VALID_RAW, ...overrides }).filter((e): e is [string, string] => e[1] !== undefined));
}

function problems(overrides: Record<string, string | undefined>, secrets: ReadonlySet<string> = VALID_SECRETS) {
  const result = validateSettings(rawOf(overrides), secrets);
  if (result.ok) throw new Error("expected problems, the config was accepted");
  return result.problems;
}

describe("a campaign's keys", () => {
  const dir = mkdtempSync(join(tmpdir(), "ids-file-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "w3.txt"), "# W3, night 1\n1056215p\n\n1056216p  # again\n");
  writeFileSync(join(dir, "bad.txt"), "1056215p\n1056216\n1056215p\n");

  it("reads the IDs of canfar:observationIdsFile relative to the project directory, and the policy", () => {
    const result = validateSettings(rawOf({ observationIdsFile: "w3.txt", queuePolicy: "missing" }), VALID_SECRETS, dir);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.settings.observationIds).toEqual(["1056215p", "1056216p"]);
    expect(result.settings.queuePolicy).toBe("missing");
    const plain = validateSettings(VALID_RAW, VALID_SECRETS);
    expect(plain.ok && plain.settings.queuePolicy).toBe("changed");
  });

  it("names the file and line of every bad ID, a missing file, both keys at once, and an unknown policy", () => {
    const p = (o: Record<string, string>) => {
      const r = validateSettings(rawOf(o), VALID_SECRETS, dir);
      if (r.ok) throw new Error("accepted");
      return r.problems;
    };
    expect(p({ observationIdsFile: "bad.txt" })).toEqual([
      ["observationIdsFile", 'bad.txt line 2: "1056216" is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)'],
      ["observationIdsFile", "bad.txt line 3: '1056215p' repeats line 1"],
    ]);
    expect(p({ observationIdsFile: "nothere.txt" })).toEqual([
      ["observationIdsFile", `cannot read 'nothere.txt' (${join(dir, "nothere.txt")}): no such file; expected a file of exposure IDs, one a line, relative to the project directory`],
    ]);
    expect(p({ observationIdsFile: "w3.txt", observationIds: JSON.stringify(["1056215p"]) })).toEqual([
      ["observationIdsFile", "set either canfar:observationIds (a list in the stack file) or canfar:observationIdsFile (a file of IDs), not both"],
    ]);
    expect(p({ queuePolicy: "failed" })).toEqual([["queuePolicy", "expected one of changed, missing, all"]]);
  });

  it("checks 10,000 IDs from a file quickly", () => {
    writeFileSync(join(dir, "big.txt"), Array.from({ length: 10_000 }, (_, i) => `${3_000_000 + i}p`).join("\n"));
    const started = performance.now();
    const result = validateSettings(rawOf({ observationIdsFile: "big.txt" }), VALID_SECRETS, dir);
    expect(result.ok && result.settings.observationIds.length).toBe(10_000);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("stack config schema", () => {
  it("accepts the valid fixture and fills the tutorial's defaults", () => {
    const result = validateSettings(VALID_RAW, VALID_SECRETS);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const s = result.settings;
    expect(s.image).toBe("canfar-ubuntu-20.04");
    expect(s.flavor).toBe("c2-7.5gb-30");
    expect(s.distro).toBe("ubuntu");
    expect(s.defaultUser).toBe("ubuntu");
    expect(s.floatingIp).toEqual({ kind: "allocate", pool: DEFAULTS.floatingIpPool });
    expect(s.observationIds).toEqual(["1056215p", "1056216p", "1056217p", "1056218p"]);
    expect(s.allowSshFromAnywhere).toBe(false);
    expect(s.keepImageOnDestroy).toBe(true);
    expect(s.snapshotTimeoutSeconds).toBe(1800);
  });

  it("infers rocky and its default user from canfar-rocky-8", () => {
    const result = validateSettings({ ...VALID_RAW, image: "canfar-rocky-8" }, VALID_SECRETS);
    expect(result.ok && [result.settings.distro, result.settings.defaultUser]).toEqual(["rocky", "rocky"]);
  });

  it("adopts an existing floating IP", () => {
    const result = validateSettings({ ...VALID_RAW, floatingIp: "206.12.90.10" }, VALID_SECRETS);
    expect(result.ok && result.settings.floatingIp).toEqual({ kind: "adopt", address: "206.12.90.10" });
  });

  it("names a missing required key", () => {
    expect(problems({ network: undefined })).toEqual([["network", "is required"]]);
  });

  it("refuses a persistent flavor: no ephemeral disk for /mnt/scratch", () => {
    expect(problems({ flavor: "p8-12gb" })).toEqual([
      ["flavor", "'p8-12gb' has no ephemeral disk, so /mnt/scratch cannot be set up; choose a c* flavor such as c2-7.5gb-30"],
    ]);
  });

  it("refuses a flavor name it cannot read", () => {
    const [[key, message]] = problems({ flavor: "m1.large" });
    expect(key).toBe("flavor");
    expect(message).toMatch(/^'m1.large' is not a flavor name: expected/);
  });

  it("refuses both allocating and adopting a floating IP", () => {
    expect(problems({ floatingIp: "206.12.90.10", floatingIpPool: "Public-Network" })).toEqual([
      [
        "floatingIp",
        "set either canfar:floatingIp (adopt an address the project already has) or canfar:floatingIpPool (allocate a new one), not both",
      ],
    ]);
  });

  it("refuses an adopted address that is not IPv4", () => {
    expect(problems({ floatingIp: "my-ip" })).toEqual([["floatingIp", "expected an IPv4 address already allocated to the project"]]);
  });

  it("checks every SSH CIDR, naming its index", () => {
    expect(problems({ sshIngressCidrs: JSON.stringify(["198.51.100.0/24", "10.0.0.1/8", "300.1.1.1/32", "x"]) })).toEqual([
      ["sshIngressCidrs[1]", "'10.0.0.1/8' has host bits set; write the network address of that /8"],
      ["sshIngressCidrs[2]", "'300.1.1.1' in '300.1.1.1/32' is not an IPv4 or IPv6 address"],
      ["sshIngressCidrs[3]", "'x' is not in CIDR notation (address/prefix, e.g. 203.0.113.0/24)"],
    ]);
  });

  it("accepts IPv6 ranges", () => {
    expect(validateSettings({ ...VALID_RAW, sshIngressCidrs: JSON.stringify(["2001:db8::/32", "2001:db8:1:2::7/128"]) }, VALID_SECRETS).ok).toBe(true);
  });

  it("needs an explicit opt-in for SSH from anywhere", () => {
    expect(problems({ sshIngressCidrs: JSON.stringify(["0.0.0.0/0"]) })).toEqual([
      [
        "sshIngressCidrs[0]",
        "'0.0.0.0/0' opens SSH to the whole Internet; list your site's range instead, or set canfar:allowSshFromAnywhere to true",
      ],
    ]);
    const opted = validateSettings({ ...VALID_RAW, sshIngressCidrs: JSON.stringify(["0.0.0.0/0", "::/0"]), allowSshFromAnywhere: "true" }, VALID_SECRETS);
    expect(opted.ok).toBe(true);
  });

  it("needs at least one SSH CIDR, given as a list", () => {
    expect(problems({ sshIngressCidrs: "[]" })[0][0]).toBe("sshIngressCidrs");
    expect(problems({ sshIngressCidrs: "198.51.100.0/24" })).toEqual([["sshIngressCidrs", "expected a YAML list of CIDRs (e.g. [203.0.113.0/24])"]]);
  });

  it.each(["Astronomer", "1abc", "a b", "a;rm", "x".repeat(33)])("refuses CADC user name %j", (user) => {
    expect(problems({ cadcUser: user })[0][0]).toBe("cadcUser");
  });

  it.each(["astronomer/catalogues", "vos:", "vos:../etc", "vos:a/../b", "vos:a b", "vos:a;rm"])("refuses VOSpace path %j", (path) => {
    expect(problems({ vospace: path })).toEqual([["vospace", "expected a VOSpace path such as vos:myuser/catalogues (letters, digits, '_', '.', '+', '-' between slashes, no '..')"]]);
  });

  it("checks observation IDs and repeats", () => {
    expect(problems({ observationIds: JSON.stringify(["1056215p", "1056215p;rm -rf", "1056215p"]) })).toEqual([
      ["observationIds", 'observation ID "1056215p;rm -rf" at index 1 is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)'],
      ["observationIds", "observation ID '1056215p' at index 2 repeats index 0"],
    ]);
  });

  it("requires the CADC password and the private key to be Pulumi secrets", () => {
    expect(problems({}, new Set(["sshPrivateKey"]))).toEqual([
      ["cadcPassword", "must be a Pulumi secret; set it with `pulumi config set --secret canfar:cadcPassword ...`"],
    ]);
    // In the order of the key table (config/keys.ts); the error a user sees sorts them by key.
    expect(problems({}, new Set()).map(([k]) => k)).toEqual(["sshPrivateKey", "cadcPassword"]);
  });

  it("never echoes a rejected value (a misplaced password must not reach the terminal)", () => {
    const secretish = "Hunter2 very secret";
    const found = problems({ cadcUser: secretish, snapshotTimeoutSeconds: secretish, allowSshFromAnywhere: secretish });
    expect(found.map(([k]) => k).sort()).toEqual(["allowSshFromAnywhere", "cadcUser", "snapshotTimeoutSeconds"]);
    expect(JSON.stringify(found)).not.toContain(secretish);
  });

  it("refuses a CADC password ~/.netrc cannot hold, without echoing it", () => {
    expect(problems({ cadcPassword: "has space" })).toEqual([
      ["cadcPassword", "contains white space, a quote or a backslash, which ~/.netrc cannot hold; change the CADC password"],
    ]);
  });

  it("asks for a distro when the image name does not tell", () => {
    expect(problems({ image: "my-custom-image" })).toEqual([
      ["distro", "cannot tell the distribution of image 'my-custom-image'; set canfar:distro to one of ubuntu, debian, rocky"],
    ]);
  });

  it("catches a misspelt key and suggests the right one", () => {
    expect(problems({ flavour: "c2-7.5gb-30" })).toEqual([["flavour", "unknown key; did you mean canfar:flavor?"]]);
  });

  it("checks numbers and booleans as Pulumi passes them (text)", () => {
    expect(problems({ snapshotTimeoutSeconds: "10" })).toEqual([["snapshotTimeoutSeconds", "expected at least 60"]]);
    expect(problems({ keepImageOnDestroy: "yes please" })).toEqual([["keepImageOnDestroy", "expected true or false"]]);
    const ok = validateSettings({ ...VALID_RAW, snapshotTimeoutSeconds: "600", keepImageOnDestroy: "false" }, VALID_SECRETS);
    expect(ok.ok && [ok.settings.snapshotTimeoutSeconds, ok.settings.keepImageOnDestroy]).toEqual([600, false]);
  });

  it("reports every problem at once", () => {
    expect(problems({ flavor: "p8-12gb", cadcUser: "Bad", vospace: "x" }).length).toBeGreaterThanOrEqual(2);
  });
});

describe("batch submission settings", () => {
  const batch = {
    batchHost: "batch.canfar.net",
    openstackAuthUrl: "https://arbutus-canfar.cloud.computecanada.ca:5000/v3",
    openstackProjectName: "my-project",
    openstackProjectId: "0123456789abcdef0123456789abcdef",
  };

  it("defaults the batch login to the CADC user, the worker flavor to the build flavor, csv1", () => {
    const result = validateSettings({ ...VALID_RAW, ...batch }, VALID_SECRETS);
    expect(result.ok && [result.settings.batchUser, result.settings.workerFlavor, result.settings.submitMode, result.settings.batchPort]).toEqual([
      "astronomer",
      "c2-7.5gb-30",
      "csv1",
      22,
    ]);
  });

  it("needs the OpenStack project for csv1, not for csv2", () => {
    expect(problems({ batchHost: "batch.canfar.net" }).map(([k]) => k)).toEqual(["openstackAuthUrl", "openstackProjectName", "openstackProjectId"]);
    expect(validateSettings({ ...VALID_RAW, batchHost: "batch.canfar.net", submitMode: "csv2" }, VALID_SECRETS).ok).toBe(true);
  });

  it("refuses a worker flavor without scratch disk, a bad host, mode or project ID", () => {
    expect(problems({ ...batch, workerFlavor: "p8-12gb" })).toEqual([
      ["workerFlavor", "'p8-12gb' has no ephemeral disk for the jobs' scratch directories; choose a c* flavor such as c2-7.5gb-30"],
    ]);
    expect(problems({ ...batch, batchHost: "-oProxyCommand=x" })).toEqual([["batchHost", "expected the batch host's DNS name or IPv4 address"]]);
    expect(problems({ ...batch, submitMode: "csv3" })).toEqual([["submitMode", "expected one of csv1, csv2"]]);
    expect(problems({ ...batch, openstackProjectId: "my-project" })[0][0]).toBe("openstackProjectId");
    expect(problems({ ...batch, openstackAuthUrl: "ftp://x" })[0][0]).toBe("openstackAuthUrl");
  });
});

describe("values YAML or a paste turned into something else", () => {
  it("refuses blank values (YAML null) as blank, naming the key, for text, lists and flags alike", () => {
    for (const blank of ["null", "~", "", "NULL"]) {
      expect(problems({ cadcUser: blank })).toEqual([["cadcUser", "is blank (in YAML, `canfar:cadcUser:` with nothing after it is null); give it a value"]]);
    }
    expect(problems({ flavor: "null" })[0]?.[1]).toContain("or remove the line to use the default");
    expect(problems({ observationIds: "null" })[0]?.[0]).toBe("observationIds");
    expect(problems({ keepImageOnDestroy: "null" })[0]?.[0]).toBe("keepImageOnDestroy");
  });

  it("refuses a YAML boolean where a name was meant, but not as a password", () => {
    for (const key of ["network", "cadcUser", "image", "batchHost", "snapshotPrefix"]) {
      expect(problems({ [key]: "true" }), key).toEqual([[key, "is the YAML boolean true, not a name; quote it ('true') if that really is the name"]]);
    }
    expect(problems({ network: "False" })[0]?.[1]).toContain("is the YAML boolean false");
    expect(validateSettings({ ...VALID_RAW, cadcPassword: "true" }, VALID_SECRETS).ok).toBe(true);
  });

  it("refuses line breaks, control and invisible characters in every value, without echoing them", () => {
    const cases: Array<[string, string]> = [
      ["flavor", "c2-7.5gb-30\n  - canfar:cadcUser: all good"],
      ["openstackAuthUrl", "https://keystone.example.org:5000/v3\nOS_PASSWORD=x"],
      ["network", "net\u0007"],
      ["floatingIpPool", "Public\u202eNetwork"],
      ["vospace", "vos:me/cat\u200b"],
      ["cadcPassword", "pass\u2028word"],
    ];
    for (const [key, value] of cases) {
      const found = problems({ [key]: value, ...(key === "openstackAuthUrl" ? { batchHost: "batch.canfar.net" } : {}) }).filter(([k]) => k === key);
      expect(found, key).toHaveLength(1);
      expect(found[0]?.[1], key).toMatch(/^contains (a line break|a control or invisible character) \(character \d+ is U\+[0-9A-F]{4}\); expected a single line of visible text$/);
    }
    // The private key is the one value that spans lines.
    expect(validateSettings(VALID_RAW, VALID_SECRETS).ok).toBe(true);
    expect(problems({ sshPrivateKey: `${VALID_RAW.sshPrivateKey}\u0000` })[0]?.[1]).toMatch(/^contains a control/);
  });

  it("refuses list items that are not text, naming the index, and still checks the others", () => {
    expect(problems({ observationIds: JSON.stringify([1056215, "x"]) })).toEqual([
      ["observationIds[0]", "is the number 1056215; expected text (quote it in YAML if it looks like a number)"],
      ["observationIds", 'observation ID "1056215" at index 0 is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)'],
      ["observationIds", 'observation ID "x" at index 1 is not a CFHT exposure ID (6-8 digits and a lower-case letter, e.g. 1056215p)'],
    ]);
    expect(problems({ extraPackages: JSON.stringify([null]) })).toContainEqual(["extraPackages[0]", "is blank (null); expected text (quote it in YAML if it looks like a number)"]);
    expect(problems({ sshIngressCidrs: JSON.stringify([["198.51.100.0/24"]]) })).toContainEqual(["sshIngressCidrs[0]", "is a list; expected text (quote it in YAML if it looks like a number)"]);
  });

  it("refuses an empty list where one item is needed, by key", () => {
    expect(problems({ observationIds: "[]" })).toEqual([["observationIds", "expected at least one exposure ID (remove the key to process the tutorial's four)"]]);
    expect(problems({ sshIngressCidrs: "[]" })[0]?.[0]).toBe("sshIngressCidrs");
  });

  it("refuses values beyond what OpenStack takes, counting the names made from them", () => {
    expect(problems({ snapshotPrefix: "x".repeat(234) })).toEqual([["snapshotPrefix", "expected at most 233 characters (the longest that fits the names made from it)"]]);
    expect(validateSettings({ ...VALID_RAW, snapshotPrefix: "x".repeat(233) }, VALID_SECRETS).ok).toBe(true);
    expect(problems({ network: "n".repeat(256) })).toEqual([["network", "expected at most 255 characters (OpenStack's limit for names)"]]);
    expect(problems({ cadcUser: "a".repeat(5000) })[0]?.[1]).toBe("is 5000 characters long; expected at most 4096");
  });

  it("refuses a distro the image name contradicts, unless opted in", () => {
    expect(problems({ image: "canfar-rocky-8", distro: "ubuntu" })).toEqual([
      [
        "distro",
        "is ubuntu, but canfar:image 'canfar-rocky-8' names rocky: the VM would get ubuntu's package names and login; remove canfar:distro, or set canfar:allowDistroMismatch to true if the image is mislabelled",
      ],
    ]);
    const opted = validateSettings({ ...VALID_RAW, image: "canfar-rocky-8", distro: "ubuntu", allowDistroMismatch: "true" }, VALID_SECRETS);
    expect(opted.ok && opted.settings.distro).toBe("ubuntu");
    expect(validateSettings({ ...VALID_RAW, image: "my-own-image", distro: "debian" }, VALID_SECRETS).ok).toBe(true);
  });

  it("reports a type error and a cross-key problem of other keys together", () => {
    const found = problems({ batchPort: "ssh", flavor: "p8-12gb", floatingIp: "206.12.90.10", floatingIpPool: "Public-Network", sshIngressCidrs: JSON.stringify(["0.0.0.0/0"]) });
    expect(found.map(([k]) => k).sort()).toEqual(["batchPort", "flavor", "floatingIp", "sshIngressCidrs[0]"]);
  });

  it("refuses a look-alike letter in a URL's host", () => {
    expect(problems({ batchHost: "batch.canfar.net", openstackAuthUrl: "https://\u0430rbutus.example.org:5000/v3" }).map(([k]) => k)).toContain("openstackAuthUrl");
  });
});

describe("SSH authentication: the key from the config or the ssh-agent", () => {
  it("takes the running ssh-agent instead of a private key", () => {
    const { sshPrivateKey: _key, ...raw } = VALID_RAW;
    const result = validateSettings({ ...raw, sshAgent: "true" }, new Set(["cadcPassword"]));
    expect(result.ok && result.settings.sshAgent).toBe(true);
  });

  it("names the choice when neither or both are given", () => {
    expect(problems({ sshPrivateKey: undefined })).toEqual([
      ["sshPrivateKey", "is required: the private key for SSH, set with `pulumi config set --secret canfar:sshPrivateKey < ~/.ssh/id_ed25519`, or set canfar:sshAgent to true to use your running ssh-agent instead"],
    ]);
    expect(problems({ sshAgent: "true" })).toEqual([
      ["sshPrivateKey", "is set while canfar:sshAgent is true; choose one: remove the key from the config to use the ssh-agent, or set canfar:sshAgent to false"],
    ]);
  });

  it("takes a passphrase-protected key with its passphrase, as a secret", () => {
    const encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n";
    expect(problems({ sshPrivateKey: encrypted })[0]?.[0]).toBe("sshPrivateKeyPassphrase");
    const secrets = new Set([...VALID_SECRETS, "sshPrivateKeyPassphrase"]);
    expect(validateSettings({ ...VALID_RAW, sshPrivateKey: encrypted, sshPrivateKeyPassphrase: "open sesame" }, secrets).ok).toBe(true);
    expect(problems({ sshPrivateKey: encrypted, sshPrivateKeyPassphrase: "open sesame" })).toEqual([
      ["sshPrivateKeyPassphrase", "must be a Pulumi secret; set it with `pulumi config set --secret canfar:sshPrivateKeyPassphrase ...`"],
    ]);
  });

  describe("the batch system", () => {
    const POOL = { batchSystem: "self-hosted", poolPassword: "pool-secret-Zx9vQ2mT7kLp4rW8yB3nC6dF", batchHostKey: undefined };
    const secrets = new Set([...VALID_SECRETS, "poolPassword"]);
    const settle = (overrides: Record<string, string | undefined>) => validateSettings(rawOf(overrides), secrets);

    it("is CANFAR's batch service by default, with no pool", () => {
      const result = validateSettings(VALID_RAW, VALID_SECRETS);
      expect(result.ok && result.settings.pool).toEqual({ system: "canfar" });
    });

    it("self-hosted: two workers of workerFlavor and a submit node of the build flavor by default", () => {
      const result = settle(POOL);
      if (!result.ok) throw new Error(JSON.stringify(result.problems));
      expect(result.settings.pool).toEqual({ system: "self-hosted", workerCount: DEFAULTS.workerCount, submitNodeFlavor: "c2-7.5gb-30" });
      expect(settle({ ...POOL, workerCount: "0" }).ok).toBe(true);
    });

    it("refuses a worker count outside 0..100 or not whole, by key", () => {
      for (const bad of ["101", "-1", "1.5", "two"]) {
        const result = settle({ ...POOL, workerCount: bad });
        expect(result.ok ? [] : result.problems.map(([k]) => k), bad).toEqual(["workerCount"]);
      }
    });

    it("wants the pool password as a secret, long enough, never echoed", () => {
      const plain = validateSettings({ ...VALID_RAW, batchSystem: "self-hosted", poolPassword: "pool-secret-Zx9vQ2mT7kLp4rW8yB3nC6dF" }, VALID_SECRETS);
      expect(plain.ok ? [] : plain.problems).toContainEqual(["poolPassword", "must be a Pulumi secret; set it with `pulumi config set --secret canfar:poolPassword ...`"]);
      const short = settle({ ...POOL, poolPassword: "hunter2-short" });
      const problems = short.ok ? [] : short.problems;
      expect(problems.map(([k]) => k)).toEqual(["poolPassword"]);
      expect(JSON.stringify(problems)).not.toContain("hunter2-short");
      expect(JSON.stringify(problems)).toContain("openssl rand -base64 32");
    });
  });
});
