// Builds at once on one engine (issue 16.2, 16.6): each build-and-push reports the digest of its own
// result, never none, and after the push says which of its tags another push has moved. The real CLI,
// the real engine (containerd image store, buildx's docker driver) and real registries on loopback.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import type { MovedTag } from "../../lib/outputs/result.js";
import { type CliResult, runCli } from "../helpers/cli.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { registryManifest, sampleContext } from "../helpers/images.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
/**
 * Names the builds gave images in the engine (buildx's docker driver keeps a pushed image there), and the
 * images themselves: a build whose name another build took leaves its image without a name.
 */
const engineNames: string[] = [];
const engineImages: string[] = [];

before(async () => {
  work = await tempDir("buildx-step-build-concurrent-");
  registry = await startRegistry();
});
after(async () => {
  if (engineNames.length > 0) await exec("docker", ["image", "rm", ...engineNames]).catch(() => {});
  // One at a time: an image another test's build shares would stop the whole removal.
  for (const image of engineImages) await exec("docker", ["image", "rm", image]).catch(() => {});
  await registry?.stop();
  await work?.remove();
});

const unique = () => `bxs-${randomBytes(4).toString("hex")}`;

interface Built {
  result: CliResult;
  json: { digest?: string; movedTags?: MovedTag[] };
  /** The descriptor of the build's own result, from the metadata file buildx wrote. */
  descriptor: string;
  droneOutput: string;
}

/** One build and push of `context` through the CLI, with its outputs read back. */
async function build(context: string, repo: string, tags: string[], name: string): Promise<Built> {
  engineNames.push(...tags.map((tag) => `${repo}:${tag}`));
  const outputs = join(work.path, `${name}-out`);
  const result = await runCli(["--json"], {
    cwd: context,
    env: {
      PLUGIN_REPO: repo,
      PLUGIN_TAGS: tags.join(","),
      DRONE_OUTPUT: join(outputs, "drone.env"),
      PLUGIN_METADATA_FILE: join(outputs, "metadata.json"),
      CI: "true",
    },
  });
  const json = result.code === 0 ? JSON.parse(result.stdout) : {};
  const metadata = JSON.parse(await readFile(join(outputs, "metadata.json"), "utf8").catch(() => "{}"));
  const droneOutput = await readFile(join(outputs, "drone.env"), "utf8").catch(() => "");
  // The containerd image store's image ID is the digest of the manifest or index.
  const descriptor = metadata["containerimage.descriptor"]?.digest;
  if (typeof descriptor === "string") engineImages.push(descriptor);
  return { result, json, descriptor: metadata["containerimage.descriptor"]?.digest ?? "", droneOutput };
}

async function servedByDigest(repository: string, digest: string): Promise<number> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${digest}`, {
    method: "HEAD",
    headers: {
      accept: "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
    },
  });
  return response.status;
}

describe("builds at once", () => {
  test("four builds to four repositories: each tag serves its own build's digest", async () => {
    const runs = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const context = await sampleContext(join(work.path, `four-${i}`));
        const repository = `four/${unique()}`;
        return {
          repository,
          built: await build(context, `${registry.host}/${repository}`, ["v1", "latest"], `four-${i}`),
        };
      }),
    );
    const digests = new Set<string>();
    for (const { repository, built } of runs) {
      assert.equal(built.result.code, 0, built.result.stderr);
      assert.equal(built.json.digest, built.descriptor);
      assert.equal(built.json.movedTags, undefined);
      assert.equal(built.droneOutput, `digest=${built.descriptor}\n`);
      for (const tag of ["v1", "latest"]) {
        assert.equal(
          (await registryManifest(`${registry.host}/${repository}:${tag}`)).digest,
          built.descriptor,
        );
      }
      digests.add(built.descriptor);
    }
    assert.equal(digests.size, 4);
  });

  test("three builds of different contexts to one repo:tag: each reports its own digest, never none", async () => {
    const repository = `same/${unique()}`;
    const runs = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const context = await sampleContext(join(work.path, `same-${i}`));
        return build(context, `${registry.host}/${repository}`, ["v1"], `same-${i}`);
      }),
    );
    const digests = new Set<string>();
    for (const built of runs) {
      assert.equal(built.result.code, 0, built.result.stderr);
      assert.doesNotMatch(built.result.stderr, /no digest reported/);
      assert.match(built.descriptor, /^sha256:[0-9a-f]{64}$/);
      assert.equal(built.json.digest, built.descriptor, "the build's own result, not the engine's name");
      assert.equal(built.droneOutput, `digest=${built.descriptor}\n`);
      assert.equal(await servedByDigest(repository, built.descriptor), 200, "each build's image was pushed");
      for (const moved of built.json.movedTags ?? []) {
        assert.equal(moved.reference, `${registry.host}/${repository}:v1`);
        assert.notEqual(moved.serves, built.descriptor);
        assert.ok(
          built.result.stderr.includes(
            `another push moved ${moved.reference}: it serves ${moved.serves}, not ${built.descriptor}`,
          ),
          built.result.stderr,
        );
      }
      digests.add(built.descriptor);
    }
    assert.equal(digests.size, 3);
    const final = (await registryManifest(`${registry.host}/${repository}:v1`)).digest;
    assert.ok(digests.has(final), "the tag serves one of the three");
  });
});

describe("a tag moved by another push", () => {
  let proxy: FaultProxy | undefined;
  after(async () => {
    await proxy?.stop();
  });

  test("moved between this build's push and its check: a warning naming the tag and both digests, movedTags in --json, exit 0", async () => {
    const repository = `moved/${unique()}`;
    // The check of the tag (buildx-step's own request, not the engine's) is held a moment, in which
    // another push writes the tag.
    proxy = await startFaultProxy(registry.host, [
      {
        method: "HEAD",
        path: /\/manifests\/v1$/,
        userAgent: /^buildx-step/,
        times: 1,
        action: { kind: "delay", ms: 1_500 },
      },
    ]);
    const context = await sampleContext(join(work.path, "moved"));
    const building = build(context, `${proxy.host}/${repository}`, ["v1"], "moved");
    const deadline = Date.now() + 120_000;
    const active = proxy;
    while (!active.requests.some((r) => r.fault?.startsWith("delay"))) {
      assert.ok(Date.now() < deadline, "the build never checked its tag");
      await sleep(20);
    }
    const other = await writeOciTarball(join(work.path, "other.tar"));
    const pushed = await runCli([
      "push",
      other.path,
      "--repo",
      `${registry.host}/${repository}`,
      "--tag",
      "v1",
    ]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const built = await building;
    assert.equal(built.result.code, 0, built.result.stderr);
    assert.equal(built.json.digest, built.descriptor);
    assert.equal(built.droneOutput, `digest=${built.descriptor}\n`);
    const reference = `${proxy.host}/${repository}:v1`;
    assert.deepEqual(built.json.movedTags, [{ reference, serves: other.digest }]);
    assert.ok(
      built.result.stderr.includes(
        `another push moved ${reference}: it serves ${other.digest}, not ${built.descriptor}`,
      ),
      built.result.stderr,
    );
  });

  test("a server error from the registry to the engine's push: the build runs again and pushes", async () => {
    const repository = `flaky/${unique()}`;
    await proxy?.stop();
    // The engine's own push of the named image (buildx's "pushing ... with docker", after BuildKit's push,
    // which retries) meets one 500, which it does not retry; buildx-step's own check is left alone.
    proxy = await startFaultProxy(registry.host, [
      {
        method: "HEAD",
        path: /\/manifests\/v1$/,
        userAgent: /^(?!buildx-step)/,
        times: 1,
        only: [2],
        action: { kind: "status", status: 500 },
      },
    ]);
    const context = await sampleContext(join(work.path, "flaky"));
    const built = await build(context, `${proxy.host}/${repository}`, ["v1"], "flaky");
    assert.equal(built.result.code, 0, built.result.stderr);
    assert.equal(proxy.faultsApplied(), 1);
    assert.match(
      built.result.stderr,
      /the registry answered the engine's push with a server error, which the engine does not retry; building again/,
    );
    assert.equal(built.json.digest, built.descriptor);
    assert.equal((await registryManifest(`${registry.host}/${repository}:v1`)).digest, built.descriptor);
  });

  test("the registry has not got the build's image at all: exit 1, nothing reported as published", async () => {
    const repository = `absent/${unique()}`;
    const other = `sha256:${"e".repeat(64)}`;
    await proxy?.stop();
    proxy = await startFaultProxy(registry.host, [
      {
        method: "HEAD",
        path: /\/manifests\/v1$/,
        userAgent: /^buildx-step/,
        times: 1,
        action: { kind: "status", status: 200, headers: { "docker-content-digest": other }, body: "" },
      },
      {
        method: "HEAD",
        path: /\/manifests\/sha256:/,
        userAgent: /^buildx-step/,
        times: 1,
        action: { kind: "status", status: 404, body: "" },
      },
    ]);
    const context = await sampleContext(join(work.path, "absent"));
    const built = await build(context, `${proxy.host}/${repository}`, ["v1"], "absent");
    assert.equal(built.result.code, 1, built.result.stderr);
    assert.match(
      built.result.stderr,
      new RegExp(
        `buildx reported pushing ${proxy.host}/${repository} at sha256:[0-9a-f]{64}, but the registry has no such manifest .*:v1 serves ${other}`,
      ),
    );
    assert.equal(built.droneOutput, "", "no digest handed to later steps");
  });
});
