/**
 * A name of this machine, other than localhost, that resolves to a loopback address: the host name, as
 * /etc/hosts usually maps it. The registry client treats it as a remote registry (https only, proxied
 * when a proxy is set), while the traffic stays on loopback.
 */
import { lookup } from "node:dns/promises";
import { hostname } from "node:os";

export async function loopbackAlias(): Promise<string | undefined> {
  const name = hostname().toLowerCase();
  if (!name || name === "localhost") return undefined;
  const found = await lookup(name, { family: 4 }).catch(() => undefined);
  return found?.address.startsWith("127.") ? name : undefined;
}

/** Why tests that need the alias are skipped, or false when it exists. */
export function aliasSkipReason(alias: string | undefined): string | false {
  return alias ? false : `this machine's host name (${hostname()}) does not resolve to a loopback address`;
}
