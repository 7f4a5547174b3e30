// Issue 12: what users keep images in, written by the real producers on this machine, each pushed by
// buildx-step as a user runs it and read back by an independent client. For every one:
// skopeo inspect --raw of the pushed tag hashes to the digest buildx-step reports, and that is the
// source's digest (its index.json as GNU tar or cat reads it; for the docker-archives without one, the
// manifest `inspect` made, whose config and layers must be the ones skopeo sees in the archive).
// Producers: buildx (docker; oci with zstd and estargz layers; an oci folder), docker save on the
// containerd store, skopeo (docker-archive, oci-archive, oci layout), podman save (docker-archive,
// oci-archive, oci-dir) where podman runs, umoci; then gzip, zstd, xz and bzip2 of the tarballs; pipes;
// a partial multi-platform save; the engine path. TMPDIR is a folder of the test's: it must stay empty.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { cliPath, runCli } from "../helpers/cli.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
const unique = randomBytes(4).toString("hex");
const arch = process.arch === "x64" ? "amd64" : process.arch;

let registry: RegistryServer;
let work: Awaited<ReturnType<typeof tempDir>>;
let spool: string;
let context: string;
/** The image every producer writes: buildx's docker tarball, loaded into the engine as `engineName`. */
let dockerTar: string;
const engineName = `buildx-step-test/inputs-${unique}:1`;

interface Source {
  name: string;
  /** The file or folder to push. */
  path: string;
  /** What the source says its digest is, or undefined when it records none (legacy docker-archive). */
  digest?: string;
  /** PLUGIN_SOURCE_IMAGE, when the archive holds several images. */
  sourceImage?: string;
}
const sources: Source[] = [];

async function indexDigest(path: string): Promise<string> {
  const info = await stat(path);
  const text = info.isDirectory()
    ? await readFile(join(path, "index.json"), "utf8")
    : (await exec("tar", ["-xOf", path, "index.json"])).stdout;
  return (JSON.parse(text) as { manifests: { digest: string }[] }).manifests[0]?.digest ?? "";
}

async function podman(args: string[]): Promise<void> {
  const root = join(work.path, "podman");
  await exec(
    "podman",
    ["--root", `${root}/root`, "--runroot", `${root}/run`, "--storage-driver", "vfs", ...args],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
}

async function assertSpoolEmpty(): Promise<void> {
  assert.deepEqual(await readdir(spool), [], "no temporary copy is left behind in TMPDIR");
}

/** Runs `push` with TMPDIR set to the test's folder; its JSON result (or error) and exit code. */
async function push(args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = await runCli(["push", "--json", ...args], { env: { TMPDIR: spool, ...env } });
  await assertSpoolEmpty();
  return { ...result, json: result.stdout ? JSON.parse(result.stdout) : undefined };
}

/** `before | buildx-step ARGS`, as a shell runs a pipe (TMPDIR set to the test's folder). */
async function pipeInto(before: string, args: string[]) {
  const script = `${before} | "${process.execPath}" "${cliPath}" "$@"`;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      "sh",
      ["-c", script, "sh", ...args],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, TMPDIR: spool }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  registry = await startRegistry();
  work = await tempDir("buildx-step-inputs-");
  spool = join(work.path, "tmp");
  await mkdir(spool);
  context = await sampleContext(join(work.path, "ctx"));
  const at = (name: string) => join(work.path, name);

  dockerTar = await buildTarball({
    context,
    dest: at("buildx-docker.tar"),
    format: "docker",
    tags: [engineName],
  });
  sources.push({ name: "buildx type=docker", path: dockerTar, digest: await indexDigest(dockerTar) });
  for (const compression of ["zstd", "estargz"]) {
    const dest = at(`buildx-oci-${compression}.tar`);
    await exec("docker", [
      "buildx",
      "build",
      "--quiet",
      "-t",
      "x/inputs:1",
      "--output",
      `type=oci,dest=${dest},compression=${compression},force-compression=true,oci-mediatypes=true`,
      context,
    ]);
    sources.push({ name: `buildx type=oci ${compression}`, path: dest, digest: await indexDigest(dest) });
  }
  const ociFolder = at("buildx-oci-folder");
  await exec("docker", [
    "buildx",
    "build",
    "--quiet",
    "--output",
    `type=oci,tar=false,dest=${ociFolder}`,
    context,
  ]);
  sources.push({
    name: "buildx type=oci,tar=false (folder)",
    path: ociFolder,
    digest: await indexDigest(ociFolder),
  });

  // docker save on the containerd image store (this engine's).
  await exec("docker", ["load", "-q", "-i", dockerTar]);
  const saved = at("docker-save.tar");
  await exec("docker", ["save", "-o", saved, engineName]);
  sources.push({ name: "docker save (containerd store)", path: saved, digest: await indexDigest(saved) });

  const skopeo = (from: string, to: string) => exec("skopeo", ["copy", "-q", from, to]);
  await skopeo(`docker-archive:${dockerTar}`, `docker-archive:${at("skopeo-docker-archive.tar")}:x/inputs:1`);
  sources.push({ name: "skopeo docker-archive", path: at("skopeo-docker-archive.tar") });
  await skopeo(`oci-archive:${dockerTar}`, `oci-archive:${at("skopeo-oci-archive.tar")}:x/inputs:1`);
  sources.push({
    name: "skopeo oci-archive",
    path: at("skopeo-oci-archive.tar"),
    digest: await indexDigest(at("skopeo-oci-archive.tar")),
  });
  const skopeoLayout = at("skopeo-layout");
  await skopeo(`oci-archive:${dockerTar}`, `oci:${skopeoLayout}:first`);
  // umoci adds a second image to the same layout: the push picks one by its ref name.
  await exec("umoci", [
    "config",
    "--image",
    `${skopeoLayout}:first`,
    "--tag",
    "second",
    "--config.env",
    "BY=umoci",
  ]);
  const refs = JSON.parse(await readFile(join(skopeoLayout, "index.json"), "utf8")) as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  for (const ref of ["first", "second"]) {
    const digest = refs.manifests.find(
      (m) => m.annotations["org.opencontainers.image.ref.name"] === ref,
    )?.digest;
    sources.push({
      name: `skopeo oci: layout, umoci, image "${ref}"`,
      path: skopeoLayout,
      digest,
      sourceImage: ref,
    });
  }

  try {
    await podman(["load", "-q", "-i", dockerTar]);
    await podman([
      "save",
      "-q",
      "--format",
      "docker-archive",
      "-o",
      at("podman-docker-archive.tar"),
      engineName,
    ]);
    sources.push({ name: "podman save docker-archive", path: at("podman-docker-archive.tar") });
    await podman(["save", "-q", "--format", "oci-archive", "-o", at("podman-oci-archive.tar"), engineName]);
    sources.push({
      name: "podman save oci-archive",
      path: at("podman-oci-archive.tar"),
      digest: await indexDigest(at("podman-oci-archive.tar")),
    });
    await podman(["save", "-q", "--format", "oci-dir", "-o", at("podman-oci-dir"), engineName]);
    sources.push({
      name: "podman save oci-dir",
      path: at("podman-oci-dir"),
      digest: await indexDigest(at("podman-oci-dir")),
    });
  } catch (error) {
    console.log(`# podman is not usable here, its archives are not tested: ${String(error).split("\n")[0]}`);
  }

  // Compressed copies of every tarball, by the real tools.
  for (const source of [...sources]) {
    if ((await stat(source.path)).isDirectory()) continue;
    for (const [kind, command] of [
      ["gzip", "gzip -c"],
      ["zstd", "zstd -q -c"],
      ["xz", "xz -T2 -c"],
      ["bzip2", "bzip2 -c"],
    ]) {
      // Every tarball with gzip (CI's usual artifact); the other three for a few producers.
      if (kind !== "gzip" && !/docker save|skopeo docker-archive|zstd/.test(source.name)) continue;
      const out = `${source.path}.${kind}`;
      await exec("sh", ["-c", `${command} "$1" > "$2"`, "sh", source.path, out]);
      sources.push({ ...source, name: `${source.name}, ${kind}`, path: out });
    }
  }
});

after(async () => {
  await exec("docker", ["image", "rm", engineName]).catch(() => undefined);
  await registry?.stop();
  await work?.remove();
});

test("every producer's archive, plain and compressed, is pushed at the source's digest", async () => {
  assert.ok(sources.length >= 25, `${sources.length} sources`);
  let i = 0;
  for (const source of sources) {
    i += 1;
    const repository = `inputs/p${i}`;
    const args = ["--repo", `${registry.host}/${repository}`, "-t", "v1"];
    if (source.sourceImage) args.push("--source-image", source.sourceImage);
    const inspected = await runCli(["inspect", "--json", source.path], { env: { TMPDIR: spool } });
    assert.equal(inspected.code, 0, `${source.name}: ${inspected.stderr}`);
    const result = await push([...args, source.path]);
    assert.equal(result.code, 0, `${source.name}: ${result.stderr}`);
    const served = await registryManifest(`${registry.host}/${repository}:v1`);
    assert.equal(served.digest, result.json.digest, `${source.name}: skopeo reads what buildx-step reports`);
    if (source.digest) {
      assert.equal(result.json.digest, source.digest, `${source.name}: the source's own digest`);
    } else {
      // A docker-archive records no manifest: the one inspect made is pushed, with the archive's config
      // and layers as skopeo reads them from the archive.
      const images = JSON.parse(inspected.stdout).images as { digest: string }[];
      assert.equal(result.json.digest, images[0]?.digest, source.name);
      const archived = JSON.parse(
        (
          await exec("skopeo", [
            "inspect",
            "--raw",
            `docker-archive:${source.path.replace(/\.(gzip|zstd|xz|bzip2)$/, "")}`,
          ])
        ).stdout,
      );
      assert.equal(served.json.config.digest, archived.config.digest, source.name);
    }
  }
});

describe("pipes", () => {
  test("docker save | buildx-step push -, plain and gzip: the engine's digest", async () => {
    const digest = await indexDigest(
      sources.find((s) => s.name === "docker save (containerd store)")?.path ?? "",
    );
    for (const [before, repository] of [
      [`docker save ${engineName}`, "inputs/pipe-plain"],
      [`docker save ${engineName} | gzip`, "inputs/pipe-gzip"],
    ] as const) {
      const result = await pipeInto(before, [
        "push",
        "-",
        "--repo",
        `${registry.host}/${repository}`,
        "-t",
        "v1",
        "--json",
      ]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).digest, digest);
      assert.equal((await registryManifest(`${registry.host}/${repository}:v1`)).digest, digest);
      await assertSpoolEmpty();
    }
  });

  test("PLUGIN_SOURCE_TAR_PATH=- reads the pipe in plugin mode", async () => {
    const script = `zstd -q -c "$1" | PLUGIN_PUSH_ONLY=true PLUGIN_SOURCE_TAR_PATH=- PLUGIN_REPO=${registry.host}/inputs/pipe-plugin PLUGIN_TAGS=v1 "${process.execPath}" "${cliPath}"`;
    const result = await exec("sh", ["-c", script, "sh", dockerTar], {
      env: { PATH: process.env.PATH, TMPDIR: spool },
    });
    assert.match(result.stderr, /pushed .*inputs\/pipe-plugin with tag v1/);
    assert.equal(
      (await registryManifest(`${registry.host}/inputs/pipe-plugin:v1`)).digest,
      await indexDigest(dockerTar),
    );
    await assertSpoolEmpty();
  });

  test("a stream cut short: exit 2, nothing tagged, nothing left in TMPDIR", async () => {
    const size = (await stat(dockerTar)).size;
    for (const [before, pattern] of [
      [`head -c ${Math.floor(size / 2)} ${dockerTar}`, /standard input: truncated/],
      [`gzip -c ${dockerTar} | head -c 300000`, /gzip-compressed but cannot be decompressed/],
    ] as const) {
      const result = await pipeInto(before, [
        "push",
        "-",
        "--repo",
        `${registry.host}/inputs/pipe-cut`,
        "-t",
        "v1",
        "--json",
      ]);
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, pattern);
      assert.equal(JSON.parse(result.stdout).error.exitCode, 2);
      assert.deepEqual(await registryTags(registry.url, "inputs/pipe-cut"), []);
      await assertSpoolEmpty();
    }
  });
});

describe("a partial multi-platform save (containerd store)", () => {
  let partial: string;
  let amd64Digest: string;
  const pulled = () => `${registry.host}/inputs/multi:1`;
  before(async () => {
    // The other platform's manifest and config must be new to the engine (a buildx build of both
    // platforms leaves both in its content store, and docker save then writes a complete image):
    // umoci writes it, from a copy of the engine's image, into a layout whose index lists both.
    const layout = join(work.path, "multi-layout");
    const other = arch === "amd64" ? "arm64" : "amd64";
    await exec("skopeo", ["copy", "-q", `oci-archive:${dockerTar}`, `oci:${layout}:host`]);
    await exec("umoci", [
      "config",
      "--image",
      `${layout}:host`,
      "--tag",
      "other",
      "--architecture",
      other,
      "--config.env",
      `U=${unique}`,
    ]);
    const refs = JSON.parse(await readFile(join(layout, "index.json"), "utf8")) as {
      manifests: { digest: string; size: number; mediaType: string; annotations: Record<string, string> }[];
    };
    const entry = (ref: string, architecture: string) => {
      const { annotations: _a, ...descriptor } = refs.manifests.find(
        (m) => m.annotations["org.opencontainers.image.ref.name"] === ref,
      ) ?? {
        digest: "",
        size: 0,
        mediaType: "",
        annotations: {},
      };
      return { ...descriptor, platform: { os: "linux", architecture } };
    };
    const indexBytes = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [entry("host", arch), entry("other", other)],
      }),
    );
    const hex = createHash("sha256").update(indexBytes).digest("hex");
    await writeFile(join(layout, "blobs/sha256", hex), indexBytes);
    await writeFile(
      join(layout, "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: "application/vnd.oci.image.index.v1+json",
            digest: `sha256:${hex}`,
            size: indexBytes.length,
          },
        ],
      }),
    );
    await writeFile(join(work.path, "multi.tar"), "");
    await exec("tar", ["-cf", join(work.path, "multi.tar"), "-C", layout, "."]);
    const pushed = await push(["--repo", `${registry.host}/inputs/multi`, "-t", "1", layout]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const index = (await registryManifest(pulled())).json as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    amd64Digest = index.manifests.find((m) => m.platform.architecture === arch)?.digest ?? "";
    await exec("docker", ["pull", "-q", "--platform", `linux/${arch}`, pulled()]);
    partial = join(work.path, "partial.tar");
    try {
      await exec("docker", ["save", "-o", partial, pulled()]);
    } finally {
      await exec("docker", ["image", "rm", pulled()]).catch(() => undefined);
    }
  });

  test("inspect shows it as it is: the platform present, the one missing", async () => {
    const result = await runCli(["inspect", "--json", partial]);
    assert.equal(result.code, 0, result.stderr);
    const [image] = JSON.parse(result.stdout).images;
    assert.equal(image.complete, false);
    assert.deepEqual(image.platforms, [`linux/${arch}`]);
    assert.deepEqual(image.missingPlatforms, [arch === "amd64" ? "linux/arm64" : "linux/amd64"]);
    const text = await runCli(["inspect", partial]);
    assert.match(text.stdout, /missing {5}linux\//);
  });

  test("push refuses it whole, saying so and how; --platform pushes what is there at its digest", async () => {
    const refused = await push(["--repo", `${registry.host}/inputs/partial`, "-t", "v1", partial]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /holds an incomplete multi-platform image/);
    assert.match(refused.stderr, new RegExp(`--platform linux/${arch}`));
    assert.doesNotMatch(refused.stderr, /save it again|copy is complete/);
    assert.equal(refused.json.error.setting, "--platform");
    assert.deepEqual(await registryTags(registry.url, "inputs/partial"), []);

    const gz = `${partial}.gz`;
    await exec("sh", ["-c", `gzip -c "$1" > "$2"`, "sh", partial, gz]);
    const ok = await push([
      "--repo",
      `${registry.host}/inputs/partial`,
      "-t",
      "v1",
      "--platform",
      `linux/${arch}`,
      gz,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.json.digest, amd64Digest);
    assert.equal((await registryManifest(`${registry.host}/inputs/partial:v1`)).digest, amd64Digest);
  });

  test("PLUGIN_SOURCE_PLATFORM on a complete multi-platform tarball pushes that platform's manifest", async () => {
    const result = await runCli([], {
      env: {
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_SOURCE_TAR_PATH: join(work.path, "multi.tar"),
        PLUGIN_SOURCE_PLATFORM: `linux/${arch}`,
        PLUGIN_REPO: `${registry.host}/inputs/one-platform`,
        PLUGIN_TAGS: "v1",
        TMPDIR: spool,
      },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal((await registryManifest(`${registry.host}/inputs/one-platform:v1`)).digest, amd64Digest);
  });
});

test("the engine path: a zstd tarball is loaded from its checked plain copy, at its digest", async () => {
  const compressed = sources.find((s) => s.name === "docker save (containerd store), zstd");
  assert.ok(compressed);
  const result = await push([
    "--via",
    "daemon",
    "--repo",
    `${registry.host}/inputs/engine`,
    "-t",
    "v1",
    compressed.path,
  ]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.json.digest, compressed.digest);
  assert.equal(result.json.digestPreserved, true);
  const folder = sources.find((s) => s.name.includes("(folder)"));
  const refused = await push([
    "--via",
    "daemon",
    "--repo",
    `${registry.host}/inputs/engine`,
    folder?.path ?? "",
  ]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /is an OCI layout folder, and the engine loads only tarballs/);
});
