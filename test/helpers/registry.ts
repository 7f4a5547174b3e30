import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { onFreePort, PortTaken } from "./free-port.js";
import { tempDir } from "./tmp.js";

/** The plain registry that scripts/setup.sh starts and keeps running. */
export const sharedRegistry = "127.0.0.1:5000";

export interface RegistryOptions {
  /** Basic auth with this user (htpasswd, bcrypt). */
  auth?: { username: string; password: string };
  /** Serve HTTPS with a certificate for 127.0.0.1 and localhost, signed by a CA made here. */
  tls?: boolean;
  /** Bearer-token auth: the registry's `auth.token` section (realm, service, issuer, rootcertbundle). */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
  /** The loopback port to listen on (default: a free one), e.g. 443 for a registry named without a port. */
  port?: number;
  /** The loopback address to listen on (default 127.0.0.1); another one (127.0.0.2) frees port 443 there. */
  address?: string;
  /** Host names the TLS certificate is also valid for (a test maps them to 127.0.0.1). */
  names?: string[];
  /**
   * Accept manifests whose foreign layers list http(s) URLs. docker-registry's default refuses every
   * such URL (the manifest PUT fails), as some registries do.
   */
  allowForeignUrls?: boolean;
}

export interface RegistryServer {
  /** host:port, as in an image reference. */
  host: string;
  /** http(s)://host:port */
  url: string;
  /** The CA's PEM file (with tls). */
  caFile?: string;
  /** The server's certificate (for 127.0.0.1 and localhost, signed by the CA) and key (with tls). */
  certFile?: string;
  keyFile?: string;
  /** The folder the registry stores blobs in. */
  storage: string;
  dir: string;
  /** Kills the registry at once (SIGKILL: nothing flushed, no answer finished), as a crash would. */
  kill(): Promise<void>;
  /**
   * Starts it again after {@link kill}: the same port, storage and configuration (its `http.secret`
   * included, so the upload sessions it had are still valid, as with a registry restarted in production).
   */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The upload sessions a registry keeps in its storage: `_uploads/<id>` folders with data or a start time.
 * (distribution 2.8 leaves a `hashstates` folder behind after a cancelled session; it is no session, the
 * registry answers 404 for it.)
 */
export async function uploadSessions(storage: string): Promise<string[]> {
  const sessions: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const path = join(dir, entry.name);
      if (entry.name === "_uploads") {
        const ids: string[] = await readdir(path).catch(() => []);
        for (const id of ids) {
          const inside: string[] = await readdir(join(path, id)).catch(() => []);
          if (inside.includes("data") || inside.includes("startedat")) sessions.push(join(path, id));
        }
      } else if (!entry.name.startsWith("_")) {
        await walk(path);
      }
    }
  };
  await walk(join(storage, "docker/registry/v2/repositories"));
  return sessions;
}

/** A self-signed certificate and its key (RSA 2048, two days), made with openssl. */
export function selfSignedCertificate(commonName: string, keyFile: string, certFile: string): void {
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "2",
      "-subj",
      `/CN=${commonName}`,
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ],
    { stdio: "pipe" },
  );
}

/** A CA and a server certificate for 127.0.0.1/localhost (and `names`), made with openssl in `dir`. */
export function makeCertificates(
  dir: string,
  names: string[] = [],
): { ca: string; cert: string; key: string; caKey: string } {
  const ca = join(dir, "ca.pem");
  const caKey = join(dir, "ca-key.pem");
  const key = join(dir, "server-key.pem");
  const csr = join(dir, "server.csr");
  const cert = join(dir, "server.pem");
  const ext = join(dir, "server.ext");
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  selfSignedCertificate("buildx-step test CA", caKey, ca);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", csr]);
  // A name that is an IPv4 address (another loopback address) goes in as an IP entry.
  const entry = (name: string) => (/^\d+\.\d+\.\d+\.\d+$/.test(name) ? `IP:${name}` : `DNS:${name}`);
  const altNames = ["IP:127.0.0.1", "DNS:localhost", ...names.map(entry)].join(",");
  writeFileSync(ext, `subjectAltName=${altNames}\nbasicConstraints=CA:FALSE\n`);
  run([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    ext,
    "-out",
    cert,
  ]);
  return { ca, cert, key, caKey };
}

/**
 * Waits until the registry answers, and answers as itself: its responses carry the header `X-Buildx-Step-
 * Registry: <id>`, so a server that took its port first is not mistaken for it. A registry that found its
 * port taken exits, and that is {@link PortTaken}.
 */
async function waitForRegistry(
  url: string,
  id: string,
  child: ChildProcess,
  log: () => string,
  caFile?: string,
): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      if (/address already in use/.test(log())) throw new PortTaken(Number(new URL(url).port), log());
      throw new Error(`docker-registry exited: ${log()}`);
    }
    try {
      // curl, not fetch: fetch would need the CA wired in; curl takes it as a flag.
      const headers = execFileSync(
        "curl",
        [
          "-s",
          "-m",
          "2",
          "-D",
          "-",
          "-o",
          "/dev/null",
          ...(caFile ? ["--cacert", caFile] : []),
          `${url}/v2/`,
        ],
        { stdio: "pipe" },
      ).toString();
      if (headers.toLowerCase().includes(`x-buildx-step-registry: ${id}`)) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not answer at ${url}: ${log()}`);
}

/** Starts a new, empty docker-registry on a free loopback port (or `options.port`). Stop it when done. */
export async function startRegistry(options: RegistryOptions = {}): Promise<RegistryServer> {
  if (options.port !== undefined) return startRegistryOn(options.port, options);
  return onFreePort((port) => startRegistryOn(port, options));
}

async function startRegistryOn(port: number, options: RegistryOptions): Promise<RegistryServer> {
  const temp = await tempDir("buildx-step-registry-");
  const dir = temp.path;
  const id = randomBytes(8).toString("hex");
  const host = `${options.address ?? "127.0.0.1"}:${port}`;
  const storage = join(dir, "storage");
  const lines = [
    "version: 0.1",
    "log: {level: error, accesslog: {disabled: true}}",
    "storage:",
    `  filesystem: {rootdirectory: ${storage}}`,
    "  delete: {enabled: true}",
    "http:",
    `  addr: ${host}`,
    `  headers: {X-Buildx-Step-Registry: [${id}]}`,
    // Fixed, as production sets it: upload Locations carry state signed with it, valid after a restart.
    `  secret: ${randomBytes(16).toString("hex")}`,
  ];
  let caFile: string | undefined;
  let certFile: string | undefined;
  let keyFile: string | undefined;
  if (options.tls) {
    const address = options.address ?? "127.0.0.1";
    const certs = makeCertificates(dir, [
      ...(options.names ?? []),
      ...(address === "127.0.0.1" ? [] : [address]),
    ]);
    caFile = certs.ca;
    certFile = certs.cert;
    keyFile = certs.key;
    lines.push(`  tls: {certificate: ${certs.cert}, key: ${certs.key}}`);
  }
  if (options.auth) {
    const htpasswd = join(dir, "htpasswd");
    const entry = execFileSync("htpasswd", ["-Bin", options.auth.username], {
      input: options.auth.password,
    }).toString();
    writeFileSync(htpasswd, entry);
    lines.push("auth:", `  htpasswd: {realm: test, path: ${htpasswd}}`);
  } else if (options.token) {
    const t = options.token;
    lines.push(
      "auth:",
      `  token: {realm: "${t.realm}", service: "${t.service}", issuer: "${t.issuer}", rootcertbundle: ${t.rootCertBundle}}`,
    );
  }
  if (options.allowForeignUrls)
    lines.push("validation:", "  manifests:", "    urls: {allow: ['^https?://']}");
  const configFile = join(dir, "config.yml");
  writeFileSync(configFile, `${lines.join("\n")}\n`);
  let output = "";
  const url = `${options.tls ? "https" : "http"}://${host}`;
  const launch = async (): Promise<ChildProcess> => {
    const started = spawn("docker-registry", ["serve", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    started.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    started.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    });
    try {
      await waitForRegistry(url, id, started, () => output, caFile);
    } catch (error) {
      // A registry that never answered must not outlive the test (its process would keep the runner alive).
      started.kill("SIGKILL");
      throw error;
    }
    return started;
  };
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill(signal);
    await exited;
  };
  let child: ChildProcess;
  try {
    child = await launch();
  } catch (error) {
    await temp.remove();
    throw error;
  }
  return {
    host,
    url,
    caFile,
    certFile,
    keyFile,
    storage,
    dir,
    kill: () => end("SIGKILL"),
    async start() {
      await end("SIGKILL");
      child = await launch();
    },
    async stop() {
      await end("SIGTERM");
      await temp.remove();
    },
  };
}
