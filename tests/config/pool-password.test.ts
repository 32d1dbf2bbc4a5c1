import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/config-error";
import { validateSettings } from "../../config/schema";
import { renderPoolUserData } from "../../pool/user-data";
import { POOL_PASSWORD_MAX } from "../../domain/batch-system";
import { evaluateProgram } from "../fixtures/evaluate-program";
import { VALID_RAW, VALID_SECRETS } from "../fixtures/stack-config";

// One rule for the pool password: what the config accepts, every pool node's user-data can
// hold. A longer one used to pass the config and fail inside the workers' user-data, after
// the build VM's resources were declared, in a message without the key a user sets.
const SELF_HOSTED = { batchSystem: "self-hosted", batchHostKey: undefined };
const SECRETS = new Set([...VALID_SECRETS, "poolPassword"]);
// Printable, no spaces, no run a test could mistake for another value: never to be echoed.
const passwordOf = (length: number) => "Pw7-".repeat(Math.ceil(length / 4)).slice(0, length);

function settle(poolPassword: string) {
  const raw = Object.fromEntries(
    Object.entries({ ...VALID_RAW, ...SELF_HOSTED, poolPassword }).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return validateSettings(raw, SECRETS);
}

function renders(poolPassword: string): boolean {
  try {
    renderPoolUserData({ role: "worker", distro: "debian", hostname: "w-0", centralManager: "10.20.0.5", poolNetwork: "10.20.0.0/24", poolPassword });
    return true;
  } catch {
    return false;
  }
}

describe("canfar:poolPassword's length", () => {
  it(`refuses more than ${POOL_PASSWORD_MAX} characters by key, saying how many are allowed, without echoing it`, () => {
    const long = passwordOf(POOL_PASSWORD_MAX + 1);
    const result = settle(long);
    const problems = result.ok ? [] : result.problems;
    expect(problems).toEqual([["poolPassword", expect.stringContaining(`expected at most ${POOL_PASSWORD_MAX} characters`)]]);
    expect(JSON.stringify(problems)).not.toContain(long.slice(0, 24));
  });

  it("accepts exactly what a pool node's user-data can hold", () => {
    for (const length of [POOL_PASSWORD_MAX - 1, POOL_PASSWORD_MAX, POOL_PASSWORD_MAX + 1, 1000]) {
      const password = passwordOf(length);
      expect(settle(password).ok, `${length} characters`).toBe(renders(password));
    }
    expect(settle(passwordOf(POOL_PASSWORD_MAX)).ok).toBe(true);
  });

  it("stops the program with the key before any resource is declared, the value unseen", async () => {
    const long = passwordOf(POOL_PASSWORD_MAX + 1);
    const attempt = evaluateProgram(
      { batchSystem: "self-hosted", poolPassword: long },
      { stack: "self-hosted", secretKeys: ["canfar:cadcPassword", "canfar:sshPrivateKey", "canfar:poolPassword"], drop: ["batchHostKey"] },
    );
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    const error = (await attempt.catch((e: unknown) => e)) as ConfigError;
    expect(error.problems.map((p) => p.key)).toEqual(["canfar:poolPassword"]);
    expect(error.message).toContain(`canfar:poolPassword: expected at most ${POOL_PASSWORD_MAX} characters`);
    expect(error.message).not.toContain(long.slice(0, 24));
  });
});
