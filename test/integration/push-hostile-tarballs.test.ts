// Hostile tarballs: each is laid out so that two tar readers in use see two different images (see
// test/helpers/hostile-tar.ts). push-only must refuse every one with exit 2, saying the tarball is
// AMBIGUOUS, before the registry receives anything. Each test also asks independent readers on this
// machine what they see (skopeo, which reads tars with Go's archive/tar as docker, containerd and Trivy
// do, and GNU tar), to show that the disagreement is real: what a scanner would check is not what a
// naive reader would push.
// Then the tarballs real tools write must still be accepted and pushed at the digest skopeo reports:
// `docker save`, buildx's docker and oci exporters, skopeo's docker-archive and oci-archive, and OCI
// layouts re-packed by GNU tar in GNU format (long names) and PAX format.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { runCli, runProgram } from "../helpers/cli.js";
import {
  caseFoldedIndexKeys,
  fifoHidesLayout,
  globalHeaderRenames,
  type HostileImage,
  hostileImage,
  indexJson,
  loneZeroBlockHidesIndex,
  manifestJsonDisagrees,
  nameTwiceAroundFolder,
  paxPathAgainstLongName,
  sparseRenamesIndex,
  tarAfterEndOfArchive,
} from "../helpers/hostile-tar.js";
import { buildTarball, registryManifest, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
const unique = randomBytes(4).toString("hex");

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir("buildx-step-hostile-");
});
after(async () => {
  await work?.remove();
});

/** Runs a command; its exit code and output, whether it failed or not. */
const run = runProgram;

/** What skopeo (containers/image, Go's archive/tar) reads from a tarball: the raw manifest, or its refusal. */
async function skopeoSees(transport: "oci-archive" | "docker-archive", file: string) {
  const result = await run("skopeo", ["inspect", "--raw", `${transport}:${file}`]);
  if (result.code !== 0) return { refused: result.stderr };
  const json = JSON.parse(result.stdout) as { config: { digest: string }; layers: { digest: string }[] };
  return { digest: `sha256:${createHash("sha256").update(result.stdout).digest("hex")}`, json };
}

/** The names GNU tar lists, and what `tar -xOf FILE NAME` prints (every member of that name, in order). */
async function gnuTar(file: string, name: string, extra: string[] = []) {
  const listed = await run("tar", [...extra, "-tf", file]);
  const printed = await run("tar", [...extra, "-xOf", file, name]);
  return {
    names: listed.stdout.split("\n").filter(Boolean),
    printed: printed.stdout,
    listStderr: listed.stderr,
  };
}

function pushEnv(registry: RegistryServer, source: string, repository: string): NodeJS.ProcessEnv {
  return {
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: source,
    PLUGIN_REPO: `${registry.host}/${repository}`,
    PLUGIN_TAGS: "v1",
    CI: "true",
  };
}

describe("refused: tarballs that readers read differently", () => {
  let registry: RegistryServer;
  let a: HostileImage;
  let b: HostileImage;
  before(async () => {
    registry = await startRegistry();
    a = hostileImage(`a-${unique}`);
    b = hostileImage(`b-${unique}`);
  });
  after(async () => {
    await registry?.stop();
  });

  /** Every file the registry stores (blobs, repositories, upload sessions). */
  async function storedFiles(dir = registry.storage): Promise<string[]> {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const files: string[] = [];
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) files.push(...(await storedFiles(path)));
      else files.push(path);
    }
    return files;
  }

  /** Writes the tarball, pushes it, and checks the refusal: exit 2, AMBIGUOUS, the file named, nothing stored. */
  async function refusedAsAmbiguous(name: string, bytes: Buffer, pattern: RegExp): Promise<string> {
    const file = join(work.path, `${name}.tar`);
    await writeFile(file, bytes);
    const result = await runCli([], { env: pushEnv(registry, file, "hostile/app") });
    assert.equal(result.code, 2, result.stderr);
    assert.ok(result.stderr.includes(file), result.stderr);
    assert.match(
      result.stderr,
      /is AMBIGUOUS \(different (tar readers would see different files|image readers would see different images) in it/,
    );
    assert.match(result.stderr, /not damaged.*rebuild it with docker save/);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
    const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, []);
    assert.deepEqual(await storedFiles(), [], "no blob, upload, link or manifest stored");
    return file;
  }

  test("a sparse entry renamed index.json by GNU.sparse.name: skopeo sees B, the plain index.json is A", async () => {
    const file = await refusedAsAmbiguous(
      "sparse",
      sparseRenamesIndex(a, b),
      /sparse-file record GNU\.sparse\.name=index\.json/,
    );
    const skopeo = await skopeoSees("oci-archive", file);
    assert.equal(skopeo.digest, b.manifest.digest, "Go's archive/tar names the sparse entry index.json");
    // A reader that names the entry by its PAX path ("decoy") finds only the plain index.json: A.
    const gnu = await gnuTar(file, "index.json");
    assert.ok(gnu.printed.startsWith(indexJson(a)), gnu.printed);
  });

  test("a FIFO whose size hides a second layout: skopeo sees B, GNU tar sees A only", async () => {
    const file = await refusedAsAmbiguous(
      "fifo",
      fifoHidesLayout(a, b),
      /"pipe" at offset \d+ is a device or FIFO whose header claims \d+ bytes/,
    );
    assert.equal((await skopeoSees("oci-archive", file)).digest, b.manifest.digest);
    const gnu = await gnuTar(file, "index.json");
    assert.equal(gnu.printed, indexJson(a), "GNU tar skips the FIFO's data: one index.json, A's");
    assert.ok(
      !gnu.names.some((n) => n.includes(b.manifest.digest.slice(7))),
      "B's blobs are invisible to GNU tar",
    );
  });

  test("a symbolic link whose size hides a second layout: skopeo sees B, GNU tar sees A only", async () => {
    const file = await refusedAsAmbiguous(
      "symlink",
      fifoHidesLayout(a, b, "2"),
      /"pipe" at offset \d+ is a symbolic link whose header claims/,
    );
    assert.equal((await skopeoSees("oci-archive", file)).digest, b.manifest.digest);
    assert.equal((await gnuTar(file, "index.json")).printed, indexJson(a));
  });

  test("a PAX path and a GNU long name for one entry: skopeo takes the long name (B), GNU tar the PAX path (A)", async () => {
    const file = await refusedAsAmbiguous(
      "pax-vs-long-name",
      paxPathAgainstLongName(a, b),
      /named "decoy" by a PAX path and "index\.json" by a GNU long name/,
    );
    assert.equal((await skopeoSees("oci-archive", file)).digest, b.manifest.digest);
    const gnu = await gnuTar(file, "index.json");
    assert.ok(gnu.names.includes("decoy"), gnu.names.join(", "));
    assert.equal(gnu.printed, indexJson(a));
  });

  test("manifest.json, a folder manifest.json/, manifest.json again: skopeo takes the first (A), extraction the last (B)", async () => {
    const file = await refusedAsAmbiguous(
      "name-twice",
      nameTwiceAroundFolder(a, b),
      /entry "manifest\.json" appears twice \(a file, then a folder\)/,
    );
    const skopeo = await skopeoSees("docker-archive", file);
    assert.equal(
      skopeo.json?.config.digest,
      a.config.digest,
      "containers/image reads the first manifest.json",
    );
    const gnu = await gnuTar(file, "manifest.json");
    assert.deepEqual(
      gnu.names.filter((n) => n.startsWith("manifest.json")),
      ["manifest.json", "manifest.json/", "manifest.json"],
    );
    // Extraction writes both; the last one, which a reader that extracts then reads, names B's config.
    assert.ok(
      gnu.printed.endsWith(
        `"Config":"blobs/sha256/${b.config.digest.slice(7)}","RepoTags":["hostile/b-${unique}:1"],"Layers":["blobs/sha256/${b.layers[0]?.digest.slice(7)}"]}]`,
      ),
    );
  });

  test("a PAX global header that sets path: GNU tar renames the next entry index.json (B), skopeo finds no index.json", async () => {
    const file = await refusedAsAmbiguous(
      "global-path",
      globalHeaderRenames(a, b),
      /PAX global header at offset \d+ sets path=index\.json/,
    );
    const skopeo = await skopeoSees("oci-archive", file);
    assert.match(skopeo.refused ?? "", /index\.json/, "Go's reader does not apply the global path");
    const gnu = await gnuTar(file, "index.json");
    assert.equal(gnu.names.filter((n) => n === "index.json").length, 2);
    assert.equal(gnu.printed, indexJson(a) + indexJson(b), "GNU tar extracts A, then B over it");
  });

  test("a single zero block before more entries: GNU tar stops (A), tar -i reads on (B), skopeo refuses", async () => {
    const file = await refusedAsAmbiguous(
      "lone-zero-block",
      loneZeroBlockHidesIndex(a, b),
      /a single zero block at offset \d+ is followed by more data/,
    );
    assert.match((await skopeoSees("oci-archive", file)).refused ?? "", /invalid tar header/);
    assert.equal((await gnuTar(file, "index.json")).printed, indexJson(a));
    assert.equal((await gnuTar(file, "index.json", ["--ignore-zeros"])).printed, indexJson(a) + indexJson(b));
  });

  test("a second tar after the end-of-archive marker (cat a.tar b.tar): skopeo and GNU tar see A, tar -i reads B last", async () => {
    const { first, second } = tarAfterEndOfArchive(a, b);
    const file = await refusedAsAmbiguous(
      "after-end-of-archive",
      Buffer.concat([first, second]),
      /goes on with data at offset \d+ after its end-of-archive marker/,
    );
    assert.equal((await skopeoSees("oci-archive", file)).digest, a.manifest.digest);
    assert.equal((await gnuTar(file, "index.json")).printed, indexJson(a));
    assert.equal((await gnuTar(file, "index.json", ["--ignore-zeros"])).printed, indexJson(a) + indexJson(b));
    // The same as two gzip members (gzip -c a.tar > f; gzip -c b.tar >> f), which every gzip reader joins.
    const members = join(work.path, "after-end-of-archive.tar.gz");
    await writeFile(members, Buffer.concat([gzipSync(first), gzipSync(second)]));
    const result = await runCli([], { env: pushEnv(registry, members, "hostile/app") });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      /is AMBIGUOUS .*goes on with data at offset \d+ after its end-of-archive marker/,
    );
    assert.deepEqual(await storedFiles(), [], "no blob, upload, link or manifest stored");
  });

  test("manifest.json naming B beside index.json naming A: skopeo's two transports see two images", async () => {
    const file = await refusedAsAmbiguous(
      "manifest-json-disagrees",
      manifestJsonDisagrees(a, b),
      /manifest\.json entry 0 \(hostile\/b-[0-9a-f]+:1\) is config .* which no image manifest of index\.json has/,
    );
    assert.equal((await skopeoSees("oci-archive", file)).digest, a.manifest.digest, "what index.json pushes");
    assert.equal(
      (await skopeoSees("docker-archive", file)).json?.config.digest,
      b.config.digest,
      "what docker load and Trivy --input read",
    );
  });

  test("index.json with 'manifests' (A) and 'Manifests' (B): skopeo's Go decoder keeps the last, B", async () => {
    const file = await refusedAsAmbiguous(
      "case-folded-keys",
      caseFoldedIndexKeys(a, b),
      /index\.json has the keys "manifests" and "Manifests" in one object/,
    );
    assert.equal((await skopeoSees("oci-archive", file)).digest, b.manifest.digest);
    assert.deepEqual(
      (
        JSON.parse((await gnuTar(file, "index.json")).printed) as { manifests: { digest: string }[] }
      ).manifests.map((m) => m.digest),
      [a.manifest.digest],
      "JSON.parse reads A",
    );
  });
});

describe("accepted: tarballs real tools write, pushed at the digest skopeo reports", () => {
  let registry: RegistryServer;
  let context: string;
  let ociTarball: string;
  before(async () => {
    registry = await startRegistry();
    context = await sampleContext(join(work.path, "ctx"));
    ociTarball = await buildTarball({
      context,
      dest: join(work.path, "buildx-oci.tar"),
      format: "oci",
      tags: [`buildx-step-test/hostile-oci-${unique}:1`],
    });
  });
  after(async () => {
    await registry?.stop();
  });

  /** Pushes `file` to `repository`; the digest the registry then serves for the tag. */
  async function pushed(
    file: string,
    repository: string,
  ): Promise<Awaited<ReturnType<typeof registryManifest>>> {
    const result = await runCli([], { env: pushEnv(registry, file, repository) });
    assert.equal(result.code, 0, result.stderr);
    return registryManifest(`${registry.host}/${repository}:v1`);
  }

  /** The platform manifest of what the registry serves (the manifest itself, or its first child). */
  async function platformManifest(served: Awaited<ReturnType<typeof registryManifest>>, repository: string) {
    const children = served.json.manifests as { digest: string }[] | undefined;
    if (!children) return served.json as { config: { digest: string }; layers: { digest: string }[] };
    const first = children[0];
    assert.ok(first);
    return (await registryManifest(`${registry.host}/${repository}@${first.digest}`)).json as {
      config: { digest: string };
      layers: { digest: string }[];
    };
  }

  test("buildx type=oci and type=docker: the digest of skopeo's oci-archive; docker-archive's image is the one pushed", async () => {
    const oci = await skopeoSees("oci-archive", ociTarball);
    assert.equal((await pushed(ociTarball, "accepted/buildx-oci")).digest, oci.digest);

    const docker = await buildTarball({
      context,
      dest: join(work.path, "buildx-docker.tar"),
      format: "docker",
      tags: [`buildx-step-test/hostile-docker-${unique}:1`],
    });
    const served = await pushed(docker, "accepted/buildx-docker");
    assert.equal(served.digest, (await skopeoSees("oci-archive", docker)).digest);
    const archived = await skopeoSees("docker-archive", docker);
    assert.equal(served.json.config.digest, archived.json?.config.digest);
  });

  test("docker save (containerd image store): the index digest skopeo reads; manifest.json is its platform", async () => {
    const tag = `buildx-step-test/hostile-save-${unique}:1`;
    await exec("docker", ["buildx", "build", "--quiet", "--load", "-t", tag, context]);
    const saved = join(work.path, "save.tar");
    try {
      await exec("docker", ["save", "-o", saved, tag]);
    } finally {
      await exec("docker", ["image", "rm", tag]).catch(() => undefined);
    }
    const served = await pushed(saved, "accepted/save");
    assert.equal(served.digest, (await skopeoSees("oci-archive", saved)).digest);
    const platform = await platformManifest(served, "accepted/save");
    const archived = await skopeoSees("docker-archive", saved);
    assert.equal(platform.config.digest, archived.json?.config.digest);
  });

  test("skopeo's docker-archive and oci-archive: pushed with the config and layers skopeo reads", async () => {
    const dockerArchive = join(work.path, "skopeo-docker.tar");
    await exec("skopeo", [
      "copy",
      "--quiet",
      `oci-archive:${ociTarball}`,
      `docker-archive:${dockerArchive}:x/skopeo:1`,
    ]);
    // No index.json: the push makes a Docker manifest of the archive's own (uncompressed) layers. skopeo
    // makes its own manifest too (other media types), so what must agree are the config and the layers.
    const served = await pushed(dockerArchive, "accepted/skopeo-docker");
    const archived = await skopeoSees("docker-archive", dockerArchive);
    assert.equal(served.json.config.digest, archived.json?.config.digest);
    assert.deepEqual(
      (served.json.layers as { digest: string }[]).map((l) => l.digest),
      archived.json?.layers.map((l) => l.digest),
    );

    const ociArchive = join(work.path, "skopeo-oci.tar");
    await exec("skopeo", [
      "copy",
      "--quiet",
      `docker-archive:${dockerArchive}`,
      `oci-archive:${ociArchive}:x/skopeo:1`,
    ]);
    assert.equal(
      (await pushed(ociArchive, "accepted/skopeo-oci")).digest,
      (await skopeoSees("oci-archive", ociArchive)).digest,
    );
  });

  test("an OCI layout re-packed by GNU tar with long names, in GNU format and in PAX format", async () => {
    const layout = join(work.path, "layout");
    await mkdir(layout, { recursive: true });
    await exec("tar", ["-xf", ociTarball, "-C", layout]);
    // Names over 100 bytes for the blobs that are read (`./` repeated, which every reader cleans away),
    // and a long file name in a long folder name beside them.
    const longFolder = join(layout, "extra", "d".repeat(120));
    await mkdir(longFolder, { recursive: true });
    await writeFile(join(longFolder, `${"f".repeat(150)}.txt`), "not part of the image\n");
    const dots = "./".repeat(20);
    for (const format of ["gnu", "pax"]) {
      const file = join(work.path, `repacked-${format}.tar`);
      await exec("tar", [
        `--format=${format}`,
        "--transform",
        `s,^\\./,${dots},`,
        "-cf",
        file,
        "-C",
        layout,
        ".",
      ]);
      const listed = await run("tar", ["-tvf", file]);
      assert.ok(listed.stdout.includes(`${dots}blobs/sha256/`), listed.stdout);
      const marker = format === "gnu" ? "././@LongLink" : "PaxHeaders";
      assert.ok(
        (await run("grep", ["-c", "-a", marker, file])).stdout.trim() !== "0",
        `${format} wrote ${marker}`,
      );
      assert.equal(
        (await pushed(file, `accepted/repacked-${format}`)).digest,
        (await skopeoSees("oci-archive", file)).digest,
      );
    }
  });
});
