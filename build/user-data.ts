import { stringify } from "yaml";
import type { Distro } from "../domain/distro";
import { EPEL, HTCONDOR_PACKAGES, PIPELINE_PACKAGES, htcondorRepository } from "../domain/packages";
import { SCRIPTS, scriptText, userDataPath } from "../provisioning/scripts";
import { hostKeyCloudConfig } from "./host-key-cloud-config";

/**
 * Where the user-data writes provisioning/build-vm/check-tools.sh, which runcmd runs: no
 * script is staged yet when cloud-init runs, so the user-data carries it.
 */
export const CHECK_TOOLS_PATH = userDataPath(SCRIPTS.checkTools);
const CHECK_TOOLS = scriptText(SCRIPTS.checkTools);

export interface WrittenFile {
  path: string;
  content: string;
  /** Octal mode as a string, e.g. "0644". */
  permissions?: string;
  owner?: string;
}

export interface CloudInitArgs {
  distro: Distro;
  /** Also upgrade every installed package (tutorial's "apt dist-upgrade"); default false. */
  upgrade?: boolean;
  /** Packages beyond the pipeline's. */
  extraPackages?: readonly string[];
  files?: readonly WrittenFile[];
  /**
   * The VM's SSH host key (see host-key.ts): installed as its only host key, so the key the
   * program pins is the key the VM shows, on the first boot and on every first boot after.
   */
  hostKey?: { privateKey: string; publicKey: string };
  /**
   * Also install HTCondor (self-hosted pool: the image's workers and submit node run it), from
   * HTCondor's own repository (see pool-user-data.ts for where each distro gets it).
   */
  htcondor?: boolean;
}

/**
 * Renders the build VM's user-data. Pure, so the exact bytes are snapshot-tested and
 * validated by `cloud-init schema`; any change to them replaces the server (Nova cannot
 * change user-data in place), so output must be stable for equal input.
 */
export function renderCloudInit(args: CloudInitArgs): string {
  const htcondor = args.htcondor === true;
  const packages = [...PIPELINE_PACKAGES[args.distro], ...(htcondor ? HTCONDOR_PACKAGES[args.distro] : []), ...(args.extraPackages ?? [])];
  const unique = [...new Set(packages)];
  const repository = htcondor ? htcondorRepository(args.distro) : {};
  const yumRepos = { ...(args.distro === "rocky" ? EPEL : {}), ...((repository.yum_repos as object | undefined) ?? {}) };
  const doc: Record<string, unknown> = {
    ...(Object.keys(yumRepos).length > 0 ? { yum_repos: yumRepos } : {}),
    ...(repository.bootcmd === undefined ? {} : { bootcmd: repository.bootcmd }),
    ...(repository.apt === undefined ? {} : { apt: repository.apt }),
    package_update: true,
    package_upgrade: args.upgrade ?? false,
    packages: unique,
    ...(args.hostKey ? hostKeyCloudConfig(args.hostKey) : {}),
    write_files: [...(args.files ?? []), { path: CHECK_TOOLS_PATH, content: CHECK_TOOLS, permissions: "0755" }].map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions ?? "0644",
      owner: f.owner ?? "root:root",
    })),
    // A package that installs but leaves no tool behind (renamed binary, broken mirror) must
    // turn `cloud-init status` into an error, so provisioning stops before the snapshot.
    // The execute side (master and startd) must be in the image a pool's workers boot from.
    runcmd: [["bash", CHECK_TOOLS_PATH, ...(htcondor ? ["--htcondor"] : [])]],
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
