import type { RootRecipe } from "../../harness/debian-root";

/**
 * The packages of a minimal OpenStack Zed from Debian 12's own archive (design §5).
 *
 * cachedRoot installs `include` first and runs `extraSetup` after, but the OpenStack
 * packages' debconf questions (dbconfig-install, configure_db, register-endpoint) must be
 * answered `false` BEFORE they are installed, or their postinst tries to reach a database
 * and a Keystone that are not running in the chroot. So `include` carries what asks
 * nothing (MariaDB, RabbitMQ, the CLI, the network tools), and `extraSetup` preseeds and
 * then installs the OpenStack services. `nova-compute` is left out on purpose: it pulls a
 * hypervisor; compute runs from python3-nova with the fake driver instead.
 */
export const OPENSTACK_BASE_PACKAGES = [
  "mariadb-server",
  "rabbitmq-server",
  "python3-openstackclient",
  "python3-pymysql",
  "iproute2",
  "bridge-utils",
  "iptables",
  "ebtables",
  "debconf-utils",
  "uwsgi-core",
  "uwsgi-plugin-python3",
  "procps",
  "curl",
];

export const OPENSTACK_SERVICE_PACKAGES = [
  "keystone",
  "glance-api",
  "placement-api",
  "nova-api",
  "nova-conductor",
  "nova-scheduler",
  "nova-common",
  "python3-nova",
  "neutron-api",
  "neutron-rpc-server",
  "neutron-linuxbridge-agent",
];

const PRESEED_PACKAGES = [
  "keystone", "glance-common", "glance-api", "placement-common", "placement-api",
  "nova-common", "nova-api", "neutron-common", "neutron-api", "neutron-rpc-server", "neutron-server",
];

const PRESEED = PRESEED_PACKAGES.flatMap((p) => [
  `${p} ${p}/dbconfig-install boolean false`,
  `${p} ${p}/configure_db boolean false`,
  `${p} ${p}/register-endpoint boolean false`,
]).concat(["keystone keystone/create-admin-tenant boolean false"]);

export const OPENSTACK_RECIPE: RootRecipe = {
  suite: "bookworm",
  include: OPENSTACK_BASE_PACKAGES,
  extraSetup: [
    "set -e",
    `debconf-set-selections <<'PRESEED'\n${PRESEED.join("\n")}\nPRESEED`,
    "apt-get update -q",
    `apt-get install -y -q --no-install-recommends ${OPENSTACK_SERVICE_PACKAGES.join(" ")}`,
    // The packages' own services never run here: the fixture starts each daemon itself.
    "rm -f /etc/nova/nova-compute.conf",
  ].join("\n"),
};
