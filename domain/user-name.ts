/**
 * The CADC user, which is also the Linux account provisioning creates (Debian's useradd
 * refuses capitals and dots; 32 is its limit). create-user.sh and cadc-credentials.sh apply
 * the same pattern; create-user.sh also refuses the system accounts below. tests/rules
 * holds them to this.
 */
export const USER_NAME_ERE = "^[a-z_][a-z0-9_-]{0,31}$";

/** Accounts every Debian, Ubuntu or Rocky image already has: never ours to manage. */
export const SYSTEM_ACCOUNTS = [
  "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data", "backup",
  "list", "irc", "gnats", "nobody", "_apt", "sshd", "systemd-network", "systemd-resolve", "systemd-timesync", "messagebus",
] as const;

export function isSystemAccount(value: string): boolean {
  return (SYSTEM_ACCOUNTS as readonly string[]).includes(value);
}
