// The main job on a local default, end to end, with the real parts:
//   1. build a small sample app without pushing, into a tarball (build-only, as a pipeline's build step);
//   2. inspect the tarball as a scanner would see it: its image, digest, platforms, layers and files;
//   3. push exactly that tarball to the local registry (push-only, as the pipeline's push step);
//   4. check that the registry serves the digest the tarball holds for every tag, and run the pushed image.
// Run it with `npm run demo` (which runs scripts/setup.sh first). Exits non-zero when any check fails.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const cli = join(root, "dist", "bundle", "buildx-step.cjs");
const registry = process.env.DEMO_REGISTRY ?? "127.0.0.1:5000";
const repo = `${registry}/demo/hello`;
const runId = `run-${Date.now().toString(36)}`;
const tags = [runId, "latest"];

function step(title: string): void {
  process.stderr.write(`\n==> ${title}\n`);
}

/** Runs buildx-step; its log goes to our stderr, its --json result comes back parsed. */
function buildxStep<T>(args: string[], env: NodeJS.ProcessEnv = {}): T {
  process.stderr.write(`$ buildx-step ${args.join(" ")}\n`);
  const result = spawnSync(process.execPath, [cli, ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`buildx-step ${args[0]} exited ${result.status}`);
  return JSON.parse(result.stdout) as T;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`check failed: ${message}`);
  process.stderr.write(`ok: ${message}\n`);
}

const work = mkdtempSync(join(tmpdir(), "buildx-step-demo-"));
try {
  const context = join(work, "app");
  execFileSync("mkdir", ["-p", context]);
  copyFileSync(join(root, "examples", "hello", "Dockerfile"), join(context, "Dockerfile"));
  copyFileSync("/bin/busybox", join(context, "busybox"));
  const tarball = join(work, "out", "hello.tar");

  step("1. build only, into a tarball (PLUGIN_DRY_RUN=true, PLUGIN_TAR_PATH)");
  const built = buildxStep<{ digest?: string; tarPath?: string }>(["--json"], {
    PLUGIN_DRY_RUN: "true",
    PLUGIN_TAR_PATH: tarball,
    PLUGIN_REPO: repo,
    PLUGIN_TAGS: tags.join(","),
    PLUGIN_CONTEXT: context,
    PLUGIN_DOCKERFILE: join(context, "Dockerfile"),
  });
  check(built.tarPath === tarball, `the tarball was written to ${tarball}`);

  step("2. inspect the tarball, as a scanner sees it");
  const inspected = buildxStep<{
    format: string;
    images: { names: string[]; digest: string; mediaType: string; platforms: string[]; size: number }[];
  }>(["inspect", tarball, "--json"]);
  const image = inspected.images[0];
  if (!image) throw new Error("the tarball holds no image");
  process.stderr.write(`${JSON.stringify(inspected, null, 2)}\n`);
  check(inspected.images.length === 1, "the tarball holds one image");
  if (built.digest)
    check(built.digest === image.digest, `the build reported the tarball's digest ${image.digest}`);

  step("3. push only, exactly that tarball (PLUGIN_PUSH_ONLY=true, PLUGIN_SOURCE_TAR_PATH)");
  const pushed = buildxStep<{ digest: string; tags: string[] }>(["--json"], {
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: tarball,
    PLUGIN_EXPECTED_DIGEST: image.digest,
    PLUGIN_REPO: repo,
    PLUGIN_TAGS: tags.join(","),
  });
  check(pushed.digest === image.digest, `the push published the scanned digest ${image.digest}`);

  step("4. the registry serves that digest for every tag; the image runs");
  for (const tag of tags) {
    const response = await fetch(`http://${registry}/v2/demo/hello/manifests/${tag}`, {
      method: "HEAD",
      headers: { accept: image.mediaType },
    });
    const served = response.headers.get("docker-content-digest");
    check(response.ok && served === image.digest, `${repo}:${tag} is served at ${served}`);
  }
  const output = execFileSync("docker", ["run", "--rm", "--pull", "always", `${repo}:${runId}`], {
    stdio: ["ignore", "pipe", "inherit"],
  })
    .toString()
    .trim();
  check(output === "hello from buildx-step", `docker run ${repo}:${runId} printed "${output}"`);
  execFileSync("docker", ["image", "rm", `${repo}:${runId}`], { stdio: "ignore" });
  process.stderr.write("\ndemo: build, scan, push: done\n");
} catch (error) {
  process.stderr.write(`\ndemo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
