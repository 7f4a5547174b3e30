import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

export interface SampleOptions {
  /** Extra files (name -> content) copied into the image, to make its digest unique. */
  files?: Record<string, string | Buffer>;
  /** A RUN step (needs no emulation only for the host platform). */
  run?: boolean;
  /** Dockerfile text to use instead of the sample's. */
  dockerfile?: string;
}

/**
 * Writes a build context for a small image that needs no pulls: `FROM scratch` + Debian's static
 * busybox, plus a unique file so that no two tests share blobs in a registry unless they mean to.
 */
export async function sampleContext(dir: string, options: SampleOptions = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await copyFile("/bin/busybox", join(dir, "busybox"));
  const files = { "unique.txt": randomBytes(16).toString("hex"), ...options.files };
  const copies: string[] = [];
  for (const [name, content] of Object.entries(files)) {
    await writeFile(join(dir, name), content);
    copies.push(`COPY ${name} /data/${name}`);
  }
  const dockerfile =
    options.dockerfile ??
    [
      "FROM scratch",
      "COPY busybox /bin/busybox",
      ...copies,
      ...(options.run ? ['RUN ["/bin/busybox", "sh", "-c", "/bin/busybox echo built > /built.txt"]'] : []),
      'ENTRYPOINT ["/bin/busybox", "cat", "/data/unique.txt"]',
    ].join("\n");
  await writeFile(join(dir, "Dockerfile"), `${dockerfile}\n`);
  return dir;
}

export interface TarballOptions {
  context: string;
  dest: string;
  format?: "docker" | "oci";
  tags?: string[];
  platforms?: string[];
}

/** Builds the context with plain `docker buildx build --output type=...,dest=...` (a fixture, not the tool). */
export async function buildTarball(options: TarballOptions): Promise<string> {
  const args = [
    "buildx",
    "build",
    "--quiet",
    "--output",
    `type=${options.format ?? "docker"},dest=${options.dest}`,
  ];
  for (const tag of options.tags ?? ["buildx-step-test/sample:latest"]) args.push("--tag", tag);
  if (options.platforms?.length) args.push("--platform", options.platforms.join(","));
  args.push(options.context);
  await exec("docker", args, { maxBuffer: 16 * 1024 * 1024 });
  return options.dest;
}

/** The raw manifest the registry serves for `ref`, read by skopeo: an independent client. */
export async function registryManifest(
  ref: string,
  options: { tls?: boolean; caDir?: string; creds?: string } = {},
) {
  const args = ["inspect", "--raw"];
  if (!options.tls) args.push("--tls-verify=false");
  if (options.caDir) args.push("--cert-dir", options.caDir);
  if (options.creds) args.push("--creds", options.creds);
  args.push(`docker://${ref}`);
  const { stdout } = await exec("skopeo", args, { encoding: "buffer", maxBuffer: 16 * 1024 * 1024 });
  const raw = stdout as unknown as Buffer;
  return {
    raw,
    digest: `sha256:${createHash("sha256").update(raw).digest("hex")}`,
    json: JSON.parse(raw.toString()),
  };
}

/** Tags the registry lists for a repository (empty when the repository does not exist). */
export async function registryTags(url: string, repository: string): Promise<string[]> {
  const response = await fetch(`${url}/v2/${repository}/tags/list`);
  if (response.status === 404) return [];
  const body = (await response.json()) as { tags?: string[] | null };
  return body.tags ?? [];
}
