// Push-only against real registries: tarballs built by real buildx (docker and multi-platform OCI) and a
// `docker save` from the classic store, pushed by the CLI as users run it; an independent client
// (skopeo, docker pull + run) checks that the registry serves, for every tag, the digest `inspect` reports.
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { runCli } from "../helpers/cli.js";
import { runImage } from "../helpers/engine.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir("buildx-step-push-");
});
after(async () => {
  await work?.remove();
});

interface Inspected {
  digest: string;
  manifests: { config: { digest: string }; layers: { digest: string }[] }[];
}

/** What `buildx-step inspect --json` reports for the tarball's only image. */
async function inspectImage(tarball: string): Promise<Inspected> {
  const inspected = await runCli(["inspect", tarball, "--json"]);
  assert.equal(inspected.code, 0, inspected.stderr);
  const images = (JSON.parse(inspected.stdout) as { images: Inspected[] }).images;
  assert.equal(images.length, 1);
  return images[0] as Inspected;
}

/** The top digest `buildx-step inspect --json` reports. */
async function inspectDigest(tarball: string): Promise<string> {
  return (await inspectImage(tarball)).digest;
}

describe("plain registry", () => {
  let registry: RegistryServer;
  before(async () => {
    registry = await startRegistry();
  });
  after(async () => {
    await registry?.stop();
  });

  test("a single-platform docker tarball: every tag at the inspected digest; outputs; docker runs it", async () => {
    const context = await sampleContext(join(work.path, "single"), { run: true });
    const tarball = await buildTarball({
      context,
      dest: join(work.path, "single.tar"),
      format: "docker",
      tags: ["recorded.example.com/not/the-target:1"],
    });
    const inspected = await inspectImage(tarball);
    const digest = inspected.digest;
    const blobCount = new Set(
      inspected.manifests.flatMap((m) => [m.config.digest, ...m.layers.map((l) => l.digest)]),
    ).size;
    const outputFile = join(work.path, "single-out", "drone.env");
    const artifactFile = join(work.path, "single-out", "artifact.json");
    const pushed = await runCli(["--json"], {
      env: {
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_SOURCE_TAR_PATH: tarball,
        PLUGIN_REPO: `${registry.host}/push/single`,
        PLUGIN_TAGS: "v1,latest",
        DRONE_OUTPUT: outputFile,
        PLUGIN_ARTIFACT_FILE: artifactFile,
        CI: "true",
      },
    });
    assert.equal(pushed.code, 0, pushed.stderr);
    const result = JSON.parse(pushed.stdout) as {
      tags: string[];
      digest: string;
      bytesUploaded: number;
      blobsSkipped: number;
    };
    assert.deepEqual(result.tags, ["v1", "latest"]);
    assert.equal(result.digest, digest);
    assert.ok(result.bytesUploaded > 500_000, "busybox's layer was uploaded");
    assert.equal(result.blobsSkipped, 0);
    for (const tag of ["v1", "latest"]) {
      assert.equal((await registryManifest(`${registry.host}/push/single:${tag}`)).digest, digest);
    }
    // The names recorded inside the tarball are not targets.
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ["push/single"]);
    assert.match(await readFile(outputFile, "utf8"), new RegExp(`^digest=${digest}$`, "m"));
    const artifact = JSON.parse(await readFile(artifactFile, "utf8"));
    assert.deepEqual(artifact.data.images, [
      { image: `${registry.host}/push/single:v1`, digest },
      { image: `${registry.host}/push/single:latest`, digest },
    ]);
    // CI logs: plain lines, no escape codes.
    assert.match(pushed.stderr, /pushed \(1\.\d MB\)/);
    assert.ok(!pushed.stderr.includes(String.fromCharCode(27)), "no escape codes");

    // An independent client runs what was pushed.
    const ref = `${registry.host}/push/single:v1`;
    await exec("docker", ["pull", "-q", ref]);
    try {
      const stdout = await runImage(ref);
      assert.equal(stdout.trim(), (await readFile(join(context, "unique.txt"), "utf8")).trim());
    } finally {
      await exec("docker", ["rmi", ref]).catch(() => undefined);
    }

    // A second push of the same image sends no blob; --quiet prints nothing but the JSON.
    const again = await runCli([
      "push",
      tarball,
      "--repo",
      `${registry.host}/push/single`,
      "--tag",
      "v2",
      "--json",
      "--quiet",
    ]);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(again.stdout) as {
      bytesUploaded: number;
      blobsSkipped: number;
      digest: string;
    };
    assert.equal(second.bytesUploaded, 0);
    assert.equal(second.blobsSkipped, blobCount);
    assert.equal(second.digest, digest);
    assert.equal(again.stderr, "");
    assert.deepEqual((await registryTags(registry.url, "push/single")).sort(), ["latest", "v1", "v2"]);
  });

  test("a multi-platform OCI tarball: the index and every child, byte for byte", async () => {
    const context = await sampleContext(join(work.path, "multi"));
    const tarball = await buildTarball({
      context,
      dest: join(work.path, "multi.tar"),
      format: "oci",
      platforms: ["linux/amd64", "linux/arm64"],
    });
    const digest = await inspectDigest(tarball);
    const pushed = await runCli(
      ["push", tarball, "--repo", `${registry.host}/push/multi`, "--tag", "1.0", "--json"],
      {
        env: { CI: "true" },
      },
    );
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((JSON.parse(pushed.stdout) as { digest: string }).digest, digest);
    const index = await registryManifest(`${registry.host}/push/multi:1.0`);
    assert.equal(index.digest, digest);
    const children = (index.json as { manifests: { digest: string; platform?: { architecture: string } }[] })
      .manifests;
    assert.ok(children.length >= 2);
    for (const child of children) {
      // Every child manifest (attestations too) is served at its digest.
      assert.equal(
        (await registryManifest(`${registry.host}/push/multi@${child.digest}`)).digest,
        child.digest,
      );
    }
    const archs = children.map((c) => c.platform?.architecture).filter((a) => a && a !== "unknown");
    assert.deepEqual(archs.sort(), ["amd64", "arm64"]);
  });

  test("a docker save tarball from the classic store is pushed as a runnable image", async () => {
    const classic = execFileSync("bash", ["scripts/classic-engine.sh"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .pop()
      ?.replace(/^DOCKER_HOST=/, "");
    assert.ok(classic?.startsWith("unix://"));
    const env = { ...process.env, DOCKER_HOST: classic };
    const context = await sampleContext(join(work.path, "classic"), { run: true });
    const name = `buildx-step-test/classic-${Date.now()}:1`;
    const tarball = join(work.path, "classic.tar");
    await exec("docker", ["buildx", "build", "--quiet", "--load", "-t", name, context], { env });
    try {
      await exec("docker", ["save", "-o", tarball, name], { env });
    } finally {
      await exec("docker", ["rmi", name], { env }).catch(() => undefined);
    }
    const digest = await inspectDigest(tarball);
    const pushed = await runCli([
      "push",
      tarball,
      "--repo",
      `${registry.host}/push/classic`,
      "--tag",
      "v1",
      "--json",
    ]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal((JSON.parse(pushed.stdout) as { digest: string }).digest, digest);
    const served = await registryManifest(`${registry.host}/push/classic:v1`);
    assert.equal(served.digest, digest);
    const ref = `${registry.host}/push/classic:v1`;
    await exec("docker", ["pull", "-q", ref]);
    try {
      const stdout = await runImage(ref);
      assert.equal(stdout.trim(), (await readFile(join(context, "unique.txt"), "utf8")).trim());
    } finally {
      await exec("docker", ["rmi", ref]).catch(() => undefined);
    }
  });
});

describe("htpasswd + TLS registry", () => {
  let registry: RegistryServer;
  const auth = { username: "ci-pusher", password: "pa55-word-for-test" };
  before(async () => {
    registry = await startRegistry({ auth, tls: true });
  });
  after(async () => {
    await registry?.stop();
  });

  test("PLUGIN_USERNAME/PLUGIN_PASSWORD for PLUGIN_REGISTRY, its CA in PLUGIN_REGISTRY_CA", async () => {
    const context = await sampleContext(join(work.path, "tls"));
    const tarball = await buildTarball({ context, dest: join(work.path, "tls.tar"), format: "oci" });
    const digest = await inspectDigest(tarball);
    const env = {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${registry.host}/secure/app`,
      PLUGIN_TAGS: "v1",
      PLUGIN_REGISTRY: registry.host,
      PLUGIN_USERNAME: auth.username,
      PLUGIN_PASSWORD: auth.password,
      PLUGIN_REGISTRY_CA: registry.caFile ?? "",
      CI: "true",
    };
    const pushed = await runCli([], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.doesNotMatch(pushed.stderr + pushed.stdout, new RegExp(auth.password));
    const served = await registryManifest(`${registry.host}/secure/app:v1`, {
      creds: `${auth.username}:${auth.password}`,
    });
    assert.equal(served.digest, digest);

    // A wrong password: exit 1, the registry's refusal, never the password.
    const refused = await runCli([], {
      env: { ...env, PLUGIN_PASSWORD: "not-the-password", PLUGIN_TAGS: "v2" },
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401/);
    assert.doesNotMatch(refused.stderr, /not-the-password/);
  });
});
