import type { Distro } from "./distro";

// What the worker image installs, per distribution: the pipeline's tools and, for a
// self-hosted pool, HTCondor, with the repositories they come from. Pure data, shared by
// the build VM's user-data and the pool nodes'.

/**
 * The packages of tutorial step 6 ("install source-extractor and libcfitsio-bin"), per
 * distribution family. Rocky has them in EPEL: `sextractor` and cfitsio's utilities.
 */
export const PIPELINE_PACKAGES: Record<Distro, readonly string[]> = {
  ubuntu: ["source-extractor", "libcfitsio-bin"],
  debian: ["source-extractor", "libcfitsio-bin"],
  rocky: ["sextractor", "cfitsio-utils"],
};

// EPEL is declared as a repository file rather than installed with `dnf install
// epel-release` from bootcmd: yum_repos runs in the config stage, before packages are
// installed, and needs no network at boot of every worker made from the snapshot.
export const EPEL = {
  epel: {
    name: "Extra Packages for Enterprise Linux $releasever - $basearch",
    // cloud-init's schema requires baseurl (a metalink alone is refused).
    baseurl: "https://dl.fedoraproject.org/pub/epel/$releasever/Everything/$basearch/",
    enabled: true,
    gpgcheck: true,
    gpgkey: "https://dl.fedoraproject.org/pub/epel/RPM-GPG-KEY-EPEL-$releasever",
  },
};

/*
 * Where each supported image gets HTCondor (checked 2026-12 against HTCondor's docs, branch
 * 24.0 docs/getting-htcondor/from-our-repositories.rst, get_htcondor, and packages.ubuntu.com):
 *
 * - Debian 13 (trixie): `htcondor` 23.9 in main (what the pool test's roots install, from the
 *   Debian mirror). Debian 12 (bookworm): none in the distribution.
 * - Ubuntu universe: `htcondor` (a transitional package for `condor`), 8.6 on 20.04 and 22.04,
 *   too old for IDTOKENS (9.0+); 23.4 on 24.04.
 * - Rocky 8/9: not in the distribution nor in EPEL; HTCondor's RPMs need EPEL for dependencies
 *   and CRB (9) / PowerTools (8).
 * - HTCondor's own repositories, series 24.0 (LTS), package `condor`: Debian 11/12/13,
 *   Ubuntu 20.04/22.04/24.04 (https://htcss-downloads.chtc.wisc.edu/repo/{debian,ubuntu}/24.0
 *   CODENAME main, key .../repo/keys/HTCondor-24.0-Key), EL 8/9/10
 *   (.../repo/24.0/el$releasever/$basearch/release). 25.x drops Ubuntu 20.04, CANFAR's default
 *   base image, hence 24.0.
 *
 * So the image takes `condor` from HTCondor's 24.0 repository on every distribution: one
 * version for the whole pool whatever the base image, and the only source for Debian 12,
 * Ubuntu 20.04/22.04 (IDTOKENS) and Rocky.
 */

/** The HTCondor packages the worker image needs, per distro, installed at build time when self-hosted. */
export const HTCONDOR_PACKAGES: Record<Distro, readonly string[]> = {
  ubuntu: ["condor"],
  debian: ["condor"],
  rocky: ["condor"],
};

/** HTCondor's LTS series whose repository the image installs from (see above). */
export const HTCONDOR_SERIES = "24.0";
const DOWNLOADS = "https://htcss-downloads.chtc.wisc.edu/repo";
/** Where apt finds HTCondor's signing key: fetched over HTTPS at build time, as get_htcondor does. */
export const HTCONDOR_APT_KEY = "/etc/apt/keyrings/htcondor.asc";

/**
 * The cloud-config keys that make HTCondor's repository available before packages install,
 * per distro (merged into the build VM's user-data by build/user-data.ts).
 */
export function htcondorRepository(distro: Distro): Record<string, unknown> {
  if (distro === "rocky") {
    return {
      yum_repos: {
        htcondor: {
          name: `HTCondor ${HTCONDOR_SERIES} for Enterprise Linux $releasever - $basearch`,
          baseurl: `${DOWNLOADS}/${HTCONDOR_SERIES}/el$releasever/$basearch/release`,
          enabled: true,
          gpgcheck: true,
          gpgkey: `${DOWNLOADS}/keys/HTCondor-${HTCONDOR_SERIES}-Key`,
        },
      },
      // HTCondor's RPMs need packages from CRB (EL 9) or PowerTools (EL 8), off by default;
      // bootcmd runs before the config stage installs packages.
      bootcmd: [["sh", "-c", "dnf config-manager --set-enabled crb || dnf config-manager --set-enabled powertools"]],
    };
  }
  // apt needs the key file before `apt-get update`: bootcmd runs in the init stage, before
  // the config stage's apt configuration and package install. cloud-init-per: once per instance.
  return {
    bootcmd: [
      ["cloud-init-per", "instance", "htcondor-apt-key", "sh", "-c", `mkdir -p /etc/apt/keyrings && curl -fsSL ${DOWNLOADS}/keys/HTCondor-${HTCONDOR_SERIES}-Key -o ${HTCONDOR_APT_KEY}`],
    ],
    apt: {
      sources: {
        "htcondor.list": { source: `deb [signed-by=${HTCONDOR_APT_KEY}] ${DOWNLOADS}/${distro}/${HTCONDOR_SERIES} $RELEASE main` },
      },
    },
  };
}
