/**
 * The real cosign (Debian 13's 2.5, installed by scripts/setup.sh), as an independent maker of keys and
 * checker of signatures: `cosign generate-key-pair`, `cosign verify --key`, `cosign verify-attestation
 * --key`, offline (no transparency log: `--insecure-ignore-tlog`) against plain-HTTP loopback registries.
 * The password reaches cosign in COSIGN_PASSWORD, never on its command line.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";

export interface CosignResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CosignKeyPair {
  /** cosign.key: the encrypted private key. */
  key: string;
  /** cosign.pub: the public key a deploy gate verifies with. */
  pub: string;
  password: string;
}

export function runCosign(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CosignResult> {
  return new Promise((resolve) => {
    execFile(
      "cosign",
      args,
      {
        cwd: options.cwd,
        // No sigstore TUF root is fetched (offline): cosign's home is the test's own.
        env: { PATH: process.env.PATH, HOME: options.cwd ?? process.env.HOME, ...options.env },
        maxBuffer: 16 * 1024 * 1024,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** `cosign generate-key-pair` in `dir`: cosign.key (encrypted with `password`) and cosign.pub. */
export async function generateKeyPair(dir: string, password: string): Promise<CosignKeyPair> {
  const made = await runCosign(["generate-key-pair"], { cwd: dir, env: { COSIGN_PASSWORD: password } });
  if (made.code !== 0) throw new Error(`cosign generate-key-pair failed: ${made.stderr}`);
  return { key: join(dir, "cosign.key"), pub: join(dir, "cosign.pub"), password };
}

/** Flags for an offline check against a plain-HTTP loopback registry. */
const OFFLINE = ["--insecure-ignore-tlog", "--allow-http-registry", "--allow-insecure-registry"];

/** `cosign verify --key PUB IMAGE`; `dockerConfig` is a folder with the registry's login, if it needs one. */
export function cosignVerify(
  image: string,
  pub: string,
  options: { dockerConfig?: string; cwd?: string } = {},
) {
  return runCosign(["verify", "--key", pub, ...OFFLINE, image], {
    cwd: options.cwd,
    env: options.dockerConfig ? { DOCKER_CONFIG: options.dockerConfig } : {},
  });
}

/** `cosign verify-attestation --key PUB --type TYPE IMAGE`. */
export function cosignVerifyAttestation(
  image: string,
  pub: string,
  type: string,
  options: { dockerConfig?: string; cwd?: string } = {},
) {
  return runCosign(["verify-attestation", "--key", pub, "--type", type, ...OFFLINE, image], {
    cwd: options.cwd,
    env: options.dockerConfig ? { DOCKER_CONFIG: options.dockerConfig } : {},
  });
}

/** The in-toto statements of `cosign verify-attestation`'s output (one DSSE envelope per line). */
export function verifiedStatements(
  stdout: string,
): { predicateType: string; subject: unknown; predicate: unknown }[] {
  return stdout
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) =>
      JSON.parse(Buffer.from((JSON.parse(line) as { payload: string }).payload, "base64").toString()),
    );
}
