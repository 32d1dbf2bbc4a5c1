import type { ConfigProblem } from "./config-error";
import { KNOWN_KEYS, NAMESPACE } from "./schema";
import { shown } from "./value-checks";
import { MAX_WORKERS } from "../domain/batch-system";

/**
 * Keys outside the `canfar` namespace. `pulumi config set flavor x` writes the project's own
 * namespace (`canfar-batch:flavor`), which the program never reads: without this the stack
 * would silently use the default. `openstack:*` would be ignored too: the program configures
 * its own provider from canfar:cloud. Only Pulumi's own `pulumi:*` keys are left alone.
 */
export function namespaceProblems(fullKeys: readonly string[], project: string): ConfigProblem[] {
  return fullKeys.flatMap((fullKey): ConfigProblem[] => {
    const colon = fullKey.indexOf(":");
    const ns = colon < 0 ? "" : fullKey.slice(0, colon);
    const key = colon < 0 ? fullKey : fullKey.slice(colon + 1);
    if (ns === "pulumi") return [];
    const known = KNOWN_KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    const meant = known ? `did you mean ${NAMESPACE}:${known}? (\`pulumi config set ${NAMESPACE}:${known} ...\`; without a namespace, \`pulumi config set\` writes ${project}:)` : `this program reads only ${NAMESPACE}:* keys`;
    if (ns === project) return [{ key: fullKey, message: `is in the project's namespace, which the program does not read; ${meant}` }];
    if (ns === "openstack") {
      return [{ key: fullKey, message: `would be ignored: the program makes its own OpenStack provider from ${NAMESPACE}:cloud; put OpenStack settings in that cloud's clouds.yaml entry${known ? `, or ${meant}` : ""}` }];
    }
    return [{ key: shown(fullKey).slice(1, -1), message: `is in namespace ${shown(ns)}, which nothing reads; ${meant}` }];
  });
}

/** The longest name OpenStack takes (Nova, Neutron, Glance). */
const NAME_MAX = 255;

/** The cloud names made from `<project>-<stack>`: each must fit OpenStack's limit. */
export function cloudNameProblems(prefix: string, stack: string): ConfigProblem[] {
  const names = [
    `${prefix}-build`,
    `${prefix}-key`,
    `${prefix}-ssh`,
    `${prefix}-build-port`,
    `SSH to the canfar-batch build VM of ${prefix}`,
    // A self-hosted pool's (pool/submit-node.ts, worker-group.ts, pool-network.ts).
    `${prefix}-submit-ssh`,
    `${prefix}-worker-${MAX_WORKERS - 1}-port`,
    `SSH to the canfar-batch submit node of ${prefix}`,
    `HTCondor in the canfar-batch pool of ${prefix}`,
  ];
  const longest = names.reduce((a, b) => (b.length > a.length ? b : a));
  if (longest.length <= NAME_MAX) return [];
  return [{ key: `stack ${shown(stack)}`, message: `makes cloud names of ${longest.length} characters (${shown(longest)}); OpenStack takes at most ${NAME_MAX}: choose a shorter stack name` }];
}
