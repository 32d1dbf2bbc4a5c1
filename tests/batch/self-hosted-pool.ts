import type { RootRecipe } from "../support/debian-root";

/**
 * What a worker image made with `htcondor: true` holds, on Debian 13 (the one Debian with
 * HTCondor in main): the pipeline's tools, HTCondor, cloud-init and sshd. locales: cloud-init's
 * locale module sets en_US.UTF-8 and fails where it is not generated (as BUILD_VM_RECIPE).
 */
export const POOL_NODE_RECIPE: RootRecipe = {
  suite: "trixie",
  include: ["openssh-server", "cloud-init", "locales"],
  extraSetup:
    "set -e; sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen && locale-gen; apt-get install -y -q --no-install-recommends htcondor source-extractor libcfitsio-bin",
};
