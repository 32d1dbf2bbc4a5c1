/*
 * The configuration files and scripts of the fixture cloud (tests/support/openstack-cloud.ts).
 * Everything listens on 127.0.0.1 inside the fixture's own network namespace.
 */

export const DB_PASSWORD = "canfar-os-db";
export const SERVICE_PASSWORD = "canfar-os-service";
export const ADMIN_PASSWORD = "canfar-os-admin";
/** The project user, as an admin of a real CANFAR project would be: role `member` only. */
export const PROJECT = { name: "my-project", user: "astronomer", password: "canfar-os-astronomer" };
/** nova-compute and the linuxbridge agent must report the same host for ports to bind. */
export const HOST = "canfar-os";
export const VXLAN_LOCAL_IP = "10.99.0.1";

const db = (name: string) => `mysql+pymysql://os:${DB_PASSWORD}@127.0.0.1/${name}`;
const AUTH = "http://127.0.0.1:5000";
const RABBIT = "rabbit://guest:guest@127.0.0.1:5672/";

/** How a service user logs in to Keystone: the same in every section that says so. */
const serviceLogin = (user: string) => `auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = ${user}
password = ${SERVICE_PASSWORD}`;

const authtoken = (user: string) => `[keystone_authtoken]
www_authenticate_uri = ${AUTH}/
auth_url = ${AUTH}/
${serviceLogin(user)}
`;

const serviceAuth = (section: string, user: string) => `[${section}]
auth_url = ${AUTH}/v3
${serviceLogin(user)}
region_name = RegionOne
`;

export const KEYSTONE_CONF = `[DEFAULT]
log_file = /var/log/canfar-os/keystone-app.log
[database]
connection = ${db("keystone")}
[token]
provider = fernet
[fernet_tokens]
key_repository = /etc/keystone/fernet-keys/
[credential]
key_repository = /etc/keystone/credential-keys/
`;

export const GLANCE_CONF = `[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
[database]
connection = ${db("glance")}
${authtoken("glance")}
[paste_deploy]
flavor = keystone
[glance_store]
stores = file,http
default_store = file
filesystem_store_datadir = /var/lib/glance/images/
[oslo_concurrency]
lock_path = /var/lib/glance/tmp
`;

export const PLACEMENT_CONF = `[DEFAULT]
[api]
auth_strategy = keystone
[placement_database]
connection = ${db("placement")}
${authtoken("placement")}
`;

export const NOVA_CONF = `[DEFAULT]
transport_url = ${RABBIT}
compute_driver = fake.FakeDriver
host = ${HOST}
my_ip = 127.0.0.1
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_workers = 1
state_path = /var/lib/nova
instances_path = /var/lib/nova/instances
[api]
auth_strategy = keystone
[api_database]
connection = ${db("nova_api")}
[database]
connection = ${db("nova")}
${authtoken("nova")}
[conductor]
workers = 1
[scheduler]
workers = 1
discover_hosts_in_cells_interval = -1
[glance]
api_servers = http://127.0.0.1:9292
${serviceAuth("placement", "placement")}
${serviceAuth("neutron", "neutron")}
service_metadata_proxy = false
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[vnc]
enabled = false
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
`;

export const NEUTRON_CONF = `[DEFAULT]
core_plugin = ml2
service_plugins = router
transport_url = ${RABBIT}
auth_strategy = keystone
host = ${HOST}
bind_host = 127.0.0.1
bind_port = 9696
api_workers = 1
rpc_workers = 1
rpc_state_report_workers = 1
state_path = /var/lib/neutron
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = ${db("neutron")}
${authtoken("neutron")}
${serviceAuth("nova", "nova")}
[oslo_concurrency]
lock_path = /var/lib/neutron/tmp
[experimental]
linuxbridge = true
[agent]
root_helper = env
root_helper_daemon =
[privsep]
helper_command = privsep-helper
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers = linuxbridge
extension_drivers = port_security
[ml2_type_flat]
flat_networks = external
[ml2_type_vxlan]
vni_ranges = 1:1000
[securitygroup]
firewall_driver = iptables
enable_security_group = true
[linux_bridge]
physical_interface_mappings = external:os-ext0
[vxlan]
enable_vxlan = true
local_ip = ${VXLAN_LOCAL_IP}
l2_population = false
`;

export const CONFIG_FILES: ReadonlyArray<[string, string]> = [
  ["/etc/keystone/keystone.conf", KEYSTONE_CONF],
  ["/etc/glance/glance-api.conf", GLANCE_CONF],
  ["/etc/placement/placement.conf", PLACEMENT_CONF],
  ["/etc/nova/nova.conf", NOVA_CONF],
  ["/etc/neutron/neutron.conf", NEUTRON_CONF],
  ["/etc/hosts", "127.0.0.1 localhost\n::1 localhost ip6-localhost\n"],
];

/** Run inside the root (in the netns) once MariaDB answers: the databases and their user. */
export const CREATE_DATABASES = `set -eu
for d in keystone glance placement nova_api nova nova_cell0 neutron; do
  echo "CREATE DATABASE IF NOT EXISTS $d;"
done | mariadb -uroot
mariadb -uroot <<SQL
CREATE USER IF NOT EXISTS 'os'@'127.0.0.1' IDENTIFIED BY '${DB_PASSWORD}';
CREATE USER IF NOT EXISTS 'os'@'localhost' IDENTIFIED BY '${DB_PASSWORD}';
GRANT ALL PRIVILEGES ON *.* TO 'os'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'os'@'localhost';
FLUSH PRIVILEGES;
SQL
`;

export const KEYSTONE_INIT = `set -eux
keystone-manage db_sync
keystone-manage fernet_setup --keystone-user root --keystone-group root
keystone-manage credential_setup --keystone-user root --keystone-group root
keystone-manage bootstrap --bootstrap-password '${ADMIN_PASSWORD}' \\
  --bootstrap-admin-url ${AUTH}/v3/ --bootstrap-internal-url ${AUTH}/v3/ \\
  --bootstrap-public-url ${AUTH}/v3/ --bootstrap-region-id RegionOne
`;

/** The other services' schemas: independent of each other, so run side by side. */
export const DB_SYNCS: ReadonlyArray<[string, string]> = [
  ["glance", "glance-manage db_sync"],
  ["placement", "placement-manage db sync"],
  [
    "nova",
    "set -eux; nova-manage api_db sync; nova-manage cell_v2 map_cell0; nova-manage cell_v2 create_cell --name cell1 --verbose; nova-manage db sync",
  ],
  ["neutron", "neutron-db-manage --config-file /etc/neutron/neutron.conf upgrade heads"],
];

export const CLOUDS_YAML = `clouds:
  arbutus-canfar:
    auth:
      auth_url: ${AUTH}/v3
      username: ${PROJECT.user}
      password: ${PROJECT.password}
      project_name: ${PROJECT.name}
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
  arbutus-canfar-admin:
    auth:
      auth_url: ${AUTH}/v3
      username: admin
      password: ${ADMIN_PASSWORD}
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
`;

/** Users, services and endpoints; run with openstacksdk once Keystone answers. */
export const IDENTITY_SETUP = `
import openstack
c = openstack.connect(cloud="arbutus-canfar-admin")
idm = c.identity
def one(it):
    it = list(it)
    return it[0] if it else None
service_project = one(idm.projects(name="service")) or idm.create_project(name="service", domain_id="default")
project = one(idm.projects(name="${PROJECT.name}")) or idm.create_project(name="${PROJECT.name}", domain_id="default")
roles = {r.name: r for r in idm.roles()}
for name in ("service", "member"):
    if name not in roles:
        roles[name] = idm.create_role(name=name)
for user in ("glance", "placement", "nova", "neutron"):
    u = one(idm.users(name=user)) or idm.create_user(name=user, password="${SERVICE_PASSWORD}", domain_id="default")
    idm.assign_project_role_to_user(service_project, u, roles["admin"])
    idm.assign_project_role_to_user(service_project, u, roles["service"])
u = one(idm.users(name="${PROJECT.user}")) or idm.create_user(name="${PROJECT.user}", password="${PROJECT.password}", domain_id="default", default_project_id=project.id)
idm.assign_project_role_to_user(project, u, roles["member"])
for name, kind, url in (
    ("glance", "image", "http://127.0.0.1:9292"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    ("nova", "compute", "http://127.0.0.1:8774/v2.1"),
    ("neutron", "network", "http://127.0.0.1:9696"),
):
    s = one(idm.services(type=kind)) or idm.create_service(name=name, type=kind)
    have = {e.interface for e in idm.endpoints(service_id=s.id)}
    for iface in ("public", "internal", "admin"):
        if iface not in have:
            idm.create_endpoint(service_id=s.id, interface=iface, url=url, region_id="RegionOne")
print("identity ready")
`;

/** Blocks until every service reports up; prints what it waits for. argv[1]: timeout s. */
export const WAIT_SERVICES = `
import sys, time, openstack
deadline = time.time() + float(sys.argv[1])
last = ""
while time.time() < deadline:
    try:
        c = openstack.connect(cloud="arbutus-canfar-admin")
        svcs = {s.binary: s for s in c.compute.services()}
        agents = [a for a in c.network.agents() if a.is_alive]
        want = ["nova-conductor", "nova-scheduler", "nova-compute"]
        down = [b for b in want if b not in svcs or svcs[b].state != "up"]
        if not down and agents:
            print("services up: " + ", ".join(want) + ", " + ", ".join(a.binary for a in agents))
            sys.exit(0)
        else:
            last = "waiting for " + ", ".join(down + ([] if agents else ["linuxbridge agent"]))
    except Exception as e:
        last = "%s: %s" % (type(e).__name__, e)
    time.sleep(1)
print("timed out: " + last, file=sys.stderr)
sys.exit(1)
`;

/** What makes the fixture look like arbutus-canfar where the program cares. */
export const CLOUD_SETUP = `
import openstack
admin = openstack.connect(cloud="arbutus-canfar-admin")
user = openstack.connect(cloud="arbutus-canfar")
def one(it):
    it = list(it)
    return it[0] if it else None
for name, ram, eph in (("c2-7.5gb-30", 7680, 30), ("p2-3gb", 3072, 0)):
    if not admin.compute.find_flavor(name):
        admin.compute.create_flavor(name=name, vcpus=2, ram=ram, disk=20, ephemeral=eph, is_public=True)
pub = admin.network.find_network("Public-Network")
if pub is None:
    pub = admin.network.create_network(name="Public-Network", is_router_external=True,
        provider_network_type="flat", provider_physical_network="external")
    admin.network.create_subnet(network_id=pub.id, name="Public-Subnet", ip_version=4,
        cidr="203.0.113.0/24", gateway_ip="203.0.113.1", is_dhcp_enabled=False,
        allocation_pools=[{"start": "203.0.113.10", "end": "203.0.113.200"}])
net = user.network.find_network("${PROJECT.name}-network")
if net is None:
    net = user.network.create_network(name="${PROJECT.name}-network")
    sub = user.network.create_subnet(network_id=net.id, name="${PROJECT.name}-subnet", ip_version=4,
        cidr="192.168.10.0/24", is_dhcp_enabled=True)
    router = user.network.create_router(name="${PROJECT.name}-router", external_gateway_info={"network_id": pub.id})
    user.network.add_interface_to_router(router, subnet_id=sub.id)
if not admin.image.find_image("canfar-ubuntu-20.04"):
    admin.image.create_image(name="canfar-ubuntu-20.04", disk_format="raw", container_format="bare",
        visibility="public", data=b"canfar-ubuntu-20.04 stand-in\\n" * 64, allow_duplicates=True)
print("cloud ready")
`;

/** After discover_hosts: the compute node is mapped when a hypervisor is listed. */
export const HAS_HYPERVISOR = `
import sys, openstack
c = openstack.connect(cloud="arbutus-canfar-admin")
sys.exit(0 if list(c.compute.hypervisors()) else 1)
`;
