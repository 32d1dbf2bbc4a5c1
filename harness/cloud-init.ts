import type { ExecResult } from "./exec";
import type { RootHandle } from "./root-handle";

/**
 * Gives the root a NoCloud seed, as an OpenStack instance's config drive would: cloud-init
 * then reads `userData` as the VM's user-data. Only NoCloud (then None) is tried, so
 * cloud-init never probes for a metadata service.
 */
export async function seedNoCloud(root: RootHandle, userData: string, instanceId = "canfar-test-1"): Promise<void> {
  await root.runOk(
    [
      "bash", "-c",
      `set -eu
mkdir -p /var/lib/cloud/seed/nocloud /etc/cloud/cloud.cfg.d
printf 'instance-id: %s\\nlocal-hostname: buildvm\\n' "$1" > /var/lib/cloud/seed/nocloud/meta-data
cat > /var/lib/cloud/seed/nocloud/user-data
printf 'datasource_list: [NoCloud, None]\\n' > /etc/cloud/cloud.cfg.d/99-canfar-test-datasource.cfg`,
      "seed-nocloud", instanceId,
    ],
    { stdin: userData },
  );
}

/**
 * Runs cloud-init's four boot stages in order, as systemd would at first boot. Every stage
 * runs even after one fails (as on a VM), so `cloud-init status` ends as it would there.
 * (cloud-init's locale module sets en_US.UTF-8 by default: BUILD_VM_RECIPE generates it, as
 * Ubuntu images do; a root without it ends in `status: error`.)
 */
export function runCloudInitStages(root: RootHandle, timeoutMs = 600_000, prefix: readonly string[] = ["unshare", "--uts"]): Promise<ExecResult> {
  // prefix: a command the stages run under, so cloud-init's set_hostname (`hostname NAME`)
  // changes a host name of the root's own, never the machine's: by default a UTS namespace
  // of the stages' own; the pool's roots pass nsenter into the one each root keeps.
  return root.run(
    [...prefix, "bash", "-c", "rc=0; for stage in 'init --local' 'init' 'modules --mode config' 'modules --mode final'; do cloud-init $stage || rc=$?; done; exit $rc"],
    { timeoutMs },
  );
}
