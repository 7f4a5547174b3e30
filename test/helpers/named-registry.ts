/**
 * A real registry under a real-looking name, e.g. `123456789012.dkr.ecr.eu-west-1.amazonaws.com`, so that
 * the tool sees exactly the host names Harness sends: the name is mapped to a loopback address in
 * /etc/hosts, the registry serves TLS on that address's port 443 with a certificate for that name, signed by
 * a CA made here, which Node trusts through NODE_EXTRA_CA_CERTS and the engine through
 * /etc/docker/certs.d/NAME/ca.crt. Needs root; everything added is removed by stop(). One such registry per
 * loopback address (port 443): 127.0.0.1, 127.0.0.2, ... serve one name each.
 */
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type RegistryOptions, type RegistryServer, startRegistry } from "./registry.js";

const HOSTS = "/etc/hosts";
const CERTS_D = "/etc/docker/certs.d";

export interface NamedRegistry {
  /** The name, as in image references (port 443 is implied). */
  name: string;
  registry: RegistryServer;
  /** The CA's PEM file. */
  caFile: string;
  /** A folder with `ca.crt`, for skopeo's --cert-dir. */
  certDir: string;
  /** What a process needs to trust the registry: NODE_EXTRA_CA_CERTS. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function hostsLine(name: string, address: string): string {
  return `${address} ${name} # buildx-step test`;
}

/** Removes the test's line for `name` from /etc/hosts (whatever address it maps to). */
export async function removeHostsEntry(name: string): Promise<void> {
  const text = await readFile(HOSTS, "utf8");
  const kept = text.split("\n").filter((line) => !line.endsWith(` ${name} # buildx-step test`));
  await writeFile(HOSTS, kept.join("\n"));
}

/** Maps `name` to the loopback `address` in /etc/hosts, replacing an earlier test line for it. */
export async function addHostsEntry(name: string, address: string): Promise<void> {
  await removeHostsEntry(name);
  const text = await readFile(HOSTS, "utf8");
  await writeFile(HOSTS, `${text.replace(/\n*$/, "\n")}${hostsLine(name, address)}\n`);
}

export async function startNamedRegistry(
  name: string,
  options: Pick<RegistryOptions, "auth"> & { address?: string } = {},
): Promise<NamedRegistry> {
  const address = options.address ?? "127.0.0.1";
  const registry = await startRegistry({ auth: options.auth, tls: true, port: 443, address, names: [name] });
  const caFile = registry.caFile as string;
  const engineCerts = join(CERTS_D, name);
  const certDir = join(registry.dir, "cert-dir");
  try {
    await addHostsEntry(name, address);
    await mkdir(engineCerts, { recursive: true });
    await copyFile(caFile, join(engineCerts, "ca.crt"));
    await mkdir(certDir, { recursive: true });
    await copyFile(caFile, join(certDir, "ca.crt"));
  } catch (error) {
    await registry.stop();
    throw error;
  }
  return {
    name,
    registry,
    caFile,
    certDir,
    env: { NODE_EXTRA_CA_CERTS: caFile },
    async stop() {
      await removeHostsEntry(name).catch(() => {});
      await rm(engineCerts, { recursive: true, force: true });
      await registry.stop();
    },
  };
}
