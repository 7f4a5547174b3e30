// What openArchive reads besides a plain tarball: compressed files (by their magic bytes, whatever the
// name), standard input, OCI layout folders, and partial multi-platform indexes; and that a temporary
// copy is never left behind. Compressed fixtures are written by the real gzip, zstd, xz and bzip2.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cp, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { detectCompression } from "../../lib/archive/compression.js";
import { openArchive } from "../../lib/archive/open.js";
import { normalizePlatform, platformMatches } from "../../lib/archive/platform.js";
import { exitCodeOf, UsageError } from "../../lib/errors.js";
import { inspectJson, inspectText } from "../../lib/modes/inspect.js";
import { tarballSource } from "../../lib/modes/push-input.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import {
  blob,
  imageBlobs,
  ociLayoutItems,
  sampleImage,
  type TarItem,
  writeTar,
} from "../helpers/archive-fixtures.js";
import { hostileImage, nameTwiceAroundFolder, paxPathAgainstLongName } from "../helpers/hostile-tar.js";
import { tempDir } from "../helpers/tmp.js";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const COMPRESSORS = [
  ["gzip", ["gzip", "-c"]],
  ["zstd", ["zstd", "-q", "-c"]],
  ["xz", ["xz", "-c"]],
  ["bzip2", ["bzip2", "-c"]],
] as const;

let work: Awaited<ReturnType<typeof tempDir>>;
/** The temporary folder openArchive writes to in these tests: it must be empty after each. */
let spool: string;
let plain: string;
let image: ReturnType<typeof sampleImage>;
before(async () => {
  work = await tempDir("buildx-step-input-");
  spool = join(work.path, "spool");
  await mkdir(spool);
  image = sampleImage({ arch: "amd64", seed: "input" });
  plain = await writeTar(
    join(work.path, "plain.tar"),
    ociLayoutItems(
      [{ mediaType: OCI_MANIFEST, digest: image.manifest.digest, size: image.manifest.size }],
      imageBlobs(image),
    ),
  );
});
after(async () => {
  await work?.remove();
});

function compress(file: string, command: readonly string[], out: string): string {
  const [program, ...args] = command;
  execFileSync("sh", ["-c", `${program} ${args.join(" ")} "$1" > "$2"`, "sh", file, out]);
  return out;
}

async function assertSpoolEmpty(): Promise<void> {
  assert.deepEqual(await readdir(spool), [], "no temporary file is left behind");
}

/** Asserts a refusal of the input (exit 2): the archive's own, or the push's (which names a setting). */
async function refusal(promise: Promise<unknown>, pattern: RegExp): Promise<ProtocolError | UsageError> {
  let caught: unknown;
  await promise.catch((error: unknown) => {
    caught = error;
  });
  assert.ok(
    caught instanceof ProtocolError || caught instanceof UsageError,
    `expected a refusal of the input, got ${String(caught)}`,
  );
  assert.equal(exitCodeOf(caught), 2);
  assert.match(caught.message, pattern);
  return caught;
}

test("compression is told by the magic bytes", () => {
  assert.equal(detectCompression(Buffer.from([0x1f, 0x8b, 8, 0])), "gzip");
  assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), "zstd");
  assert.equal(detectCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), "xz");
  assert.equal(detectCompression(Buffer.from("BZh91AY")), "bzip2");
  assert.equal(detectCompression(Buffer.from("index.json\0\0")), undefined);
  assert.equal(detectCompression(Buffer.from([0x1f])), undefined, "too short to tell");
});

for (const [kind, command] of COMPRESSORS) {
  describe(`${kind}`, () => {
    test(`a ${kind} tarball (named .tar, so only its bytes tell) reads as the plain one, blob bytes included`, async () => {
      const file = compress(plain, command, join(work.path, `${kind}-named-plain.tar`));
      const archive = await openArchive(file, { tempDir: spool });
      try {
        assert.equal(archive.path, file);
        assert.equal(archive.input.compression, kind);
        const [only] = archive.images;
        assert.equal(only?.descriptor.digest, image.manifest.digest);
        for (const layer of image.layers) {
          const chunks: Buffer[] = [];
          for await (const chunk of archive.openBlob(layer.digest)) chunks.push(chunk as Buffer);
          assert.deepEqual(Buffer.concat(chunks), layer.bytes);
        }
        assert.equal((await readdir(spool)).length, 1, "one temporary folder while open");
      } finally {
        await archive.close();
      }
      await assertSpoolEmpty();
    });

    test(`a cut ${kind} file: exit 2, says compressed and cut short, nothing left behind`, async () => {
      const whole = await readFile(compress(plain, command, join(work.path, `${kind}-whole`)));
      const cut = join(work.path, `${kind}-cut`);
      await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
      const error = await refusal(
        openArchive(cut, { tempDir: spool }),
        new RegExp(`is ${kind}-compressed but cannot be decompressed .*cut short`),
      );
      assert.ok(error.message.includes(cut));
      await assertSpoolEmpty();
    });

    test(`${kind} from standard input`, async () => {
      const bytes = await readFile(compress(plain, command, join(work.path, `${kind}-stdin`)));
      const archive = await openArchive("-", {
        tempDir: spool,
        stdin: Readable.from([bytes.subarray(0, 3), bytes.subarray(3)]),
      });
      try {
        assert.equal(archive.path, "standard input");
        assert.equal(archive.input.fromStdin, true);
        assert.equal(archive.images[0]?.descriptor.digest, image.manifest.digest);
      } finally {
        await archive.close();
      }
      await assertSpoolEmpty();
    });
  });
}

test("hostile tarballs are refused as AMBIGUOUS compressed and piped too", async () => {
  const [a, b] = [hostileImage("ca"), hostileImage("cb")];
  for (const [name, bytes] of [
    ["pax-vs-long", paxPathAgainstLongName(a, b)],
    ["name-twice", nameTwiceAroundFolder(a, b)],
  ] as const) {
    const file = join(work.path, `${name}.tar`);
    await writeFile(file, bytes);
    for (const [kind, command] of COMPRESSORS) {
      const packed = compress(file, command, `${file}.${kind}`);
      await refusal(openArchive(packed, { tempDir: spool }), /is AMBIGUOUS/);
      await refusal(
        openArchive("-", { tempDir: spool, stdin: Readable.from([await readFile(packed)]) }),
        /standard input: is AMBIGUOUS/,
      );
    }
    await refusal(openArchive("-", { tempDir: spool, stdin: Readable.from([bytes]) }), /is AMBIGUOUS/);
  }
  await assertSpoolEmpty();
});

test("a decompression bomb stops at the limit, with the limit named", async () => {
  const zeros = join(work.path, "zeros");
  await writeFile(zeros, Buffer.alloc(8 * 1024 * 1024));
  const bomb = compress(zeros, ["gzip", "-c"], join(work.path, "bomb.gz"));
  await refusal(
    openArchive(bomb, { tempDir: spool, maxBytes: 1024 * 1024 }),
    /decompresses to more than 1(\.0)? MB \(1048576 bytes\).*decompression bomb/,
  );
  await assertSpoolEmpty();
});

test("standard input: a cut plain stream, an empty one, a terminal", async () => {
  const bytes = await readFile(plain);
  const error = await refusal(
    openArchive("-", { tempDir: spool, stdin: Readable.from([bytes.subarray(0, bytes.length - 2048)]) }),
    /standard input: truncated/,
  );
  assert.match(error.message, /command before the pipe/);
  assert.doesNotMatch(error.message, /check that the copy is complete/);
  await refusal(openArchive("-", { tempDir: spool, stdin: Readable.from([]) }), /standard input: is empty/);
  const tty = Object.assign(Readable.from([]), { isTTY: true });
  await refusal(openArchive("-", { tempDir: spool, stdin: tty }), /is a terminal, not a pipe/);
  await assertSpoolEmpty();
});

test("what is not an image says what it is, and not to copy it again", async () => {
  const fsTar = await writeTar(join(work.path, "rootfs.tar"), [
    { name: "bin/", type: "directory" },
    { name: "bin/sh", data: "#!" },
    { name: "etc/passwd", data: "root:x:0:0" },
  ]);
  const error = await refusal(
    openArchive(fsTar),
    /is a plain tar of files \(bin, bin\/sh, etc\/passwd\), not an image.*buildx --output type=tar/,
  );
  assert.doesNotMatch(error.message, /copy is complete/);
  assert.match(error.message, /docker save -o FILE IMAGE/);
  const json = join(work.path, "manifest.tar");
  await writeFile(json, JSON.stringify({ schemaVersion: 2 }));
  await refusal(openArchive(json), /is not a tar file \(it is a JSON document/);
  const zip = join(work.path, "image.zip");
  await writeFile(zip, Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(600)]));
  await refusal(openArchive(zip), /it is a zip archive/);
});

describe("OCI layout folders", () => {
  let layout: string;
  before(async () => {
    layout = join(work.path, "layout");
    await mkdir(layout);
    execFileSync("tar", ["-xf", plain, "-C", layout]);
  });

  test("read as the tarball they were extracted from", async () => {
    const archive = await openArchive(layout);
    assert.equal(archive.input.kind, "folder");
    assert.equal(archive.images[0]?.descriptor.digest, image.manifest.digest);
    const layer = image.layers[0];
    assert.ok(layer);
    const hash = createHash("sha256");
    for await (const chunk of archive.openBlob(layer.digest)) hash.update(chunk as Buffer);
    assert.equal(`sha256:${hash.digest("hex")}`, layer.digest);
    assert.match(inspectText(archive), /: folder, OCI image layout, 1 image/);
  });

  test("a link inside the folder is followed; one that leaves it, or a FIFO, is refused", async () => {
    const inside = join(work.path, "layout-inside");
    await cp(layout, inside, { recursive: true });
    const layer = image.layers[0];
    assert.ok(layer);
    const blobFile = join(inside, "blobs/sha256", layer.digest.slice(7));
    await cp(blobFile, join(inside, "kept"));
    execFileSync("rm", [blobFile]);
    await symlink("../../kept", blobFile);
    assert.equal((await openArchive(inside)).images.length, 1);

    const outside = join(work.path, "layout-outside");
    await cp(layout, outside, { recursive: true });
    const target = join(outside, "blobs/sha256", layer.digest.slice(7));
    execFileSync("rm", [target]);
    await symlink("/etc/hostname", target);
    await refusal(
      openArchive(outside),
      /OCI layout folder .*layout-outside: blobs\/sha256\/[a-f0-9]+ is a symbolic link to \/etc\/hostname, outside the layout folder/,
    );

    const fifo = join(work.path, "layout-fifo");
    await cp(layout, fifo, { recursive: true });
    const pipe = join(fifo, "blobs/sha256", layer.digest.slice(7));
    execFileSync("rm", [pipe]);
    execFileSync("mkfifo", [pipe]);
    await refusal(openArchive(fifo), /is a FIFO, where the layout keeps a file/);
  });

  test("a blob swapped after indexing for a FIFO, a link or another file is refused when read, at once", async () => {
    const layer = image.layers[0];
    assert.ok(layer);
    /** Reads a blob to its end; its error, or undefined. */
    const read = async (stream: Readable) => {
      try {
        for await (const _ of stream);
        return undefined;
      } catch (error) {
        return error;
      }
    };
    for (const [name, swap, what] of [
      ["fifo", (file: string) => execFileSync("mkfifo", [file]), "a FIFO"],
      ["link", (file: string) => execFileSync("ln", ["-s", "/etc/hostname", file]), "a symbolic link"],
      // Written before the blob goes, so that it cannot take the blob's inode number.
      ["other", (file: string) => execFileSync("mv", [`${file}.other`, file]), "another file"],
    ] as const) {
      const folder = join(work.path, `layout-swapped-${name}`);
      await cp(layout, folder, { recursive: true });
      const archive = await openArchive(folder);
      const blobFile = join(folder, "blobs/sha256", layer.digest.slice(7));
      await writeFile(`${blobFile}.other`, "other bytes");
      execFileSync("rm", [blobFile]);
      swap(blobFile);
      // Within a second, not when a writer appears at the FIFO's other end.
      const error = await Promise.race([
        read(archive.openBlob(layer.digest)),
        new Promise((resolve) => setTimeout(() => resolve("hung"), 1000).unref()),
      ]);
      assert.ok(error instanceof ProtocolError && exitCodeOf(error) === 2, `${name}: ${String(error)}`);
      assert.match(
        error.message,
        new RegExp(
          `blobs/sha256/[a-f0-9]+ changed while it was read: it is now ${what}, not the file that was indexed`,
        ),
        name,
      );
    }
  });

  test("a tarball swapped after indexing for a FIFO is refused when read, at once", async () => {
    const layer = image.layers[0];
    assert.ok(layer);
    const copy = join(work.path, "swapped.tar");
    await cp(plain, copy);
    const archive = await openArchive(copy);
    execFileSync("rm", [copy]);
    execFileSync("mkfifo", [copy]);
    const outcome = await Promise.race([
      (async () => {
        for await (const _ of archive.openBlob(layer.digest));
      })().catch((error: unknown) => error),
      new Promise((resolve) => setTimeout(() => resolve("hung"), 1000).unref()),
    ]);
    assert.ok(outcome instanceof ProtocolError && exitCodeOf(outcome) === 2, String(outcome));
    assert.match(outcome.message, /the tarball changed while it was read: it is now a FIFO/);
  });

  test("a folder that is not a layout, and JSON over the limit, are refused", async () => {
    const empty = join(work.path, "not-a-layout");
    await mkdir(empty);
    await refusal(
      openArchive(empty),
      /is a folder but not an OCI image layout \(it has neither oci-layout nor index.json\)/,
    );
    const big = join(work.path, "layout-big-index");
    await cp(layout, big, { recursive: true });
    await writeFile(join(big, "index.json"), `{"manifests": [], "x": "${"a".repeat(5 * 1024 * 1024)}"}`);
    await refusal(openArchive(big), /over the 4194304-byte limit/);
  });

  test("PLUGIN_SOURCE_IMAGE picks an image of several by its ref name", async () => {
    const other = sampleImage({ arch: "arm64", seed: "other" });
    const many = join(work.path, "layout-many");
    await mkdir(many);
    const items: TarItem[] = ociLayoutItems(
      [
        {
          mediaType: OCI_MANIFEST,
          digest: image.manifest.digest,
          size: image.manifest.size,
          annotations: { "org.opencontainers.image.ref.name": "first" },
        },
        {
          mediaType: OCI_MANIFEST,
          digest: other.manifest.digest,
          size: other.manifest.size,
          annotations: { "org.opencontainers.image.ref.name": "second" },
        },
      ],
      [...imageBlobs(image), ...imageBlobs(other)],
    );
    execFileSync("tar", ["-xf", await writeTar(join(work.path, "many.tar"), items), "-C", many]);
    const source = await tarballSource(many, { sourceImage: "second" });
    assert.equal(source.digest, other.manifest.digest);
    await refusal(
      tarballSource(many, {}, (key) => `--${key}`),
      /holds 2 images; set --sourceImage/,
    );
  });
});

describe("partial multi-platform images", () => {
  const amd = sampleImage({ arch: "amd64", seed: "partial" });
  const arm = sampleImage({ arch: "arm64", seed: "partial" });
  const entry = (img: typeof amd, architecture: string) => ({
    mediaType: OCI_MANIFEST,
    digest: img.manifest.digest,
    size: img.manifest.size,
    platform: { os: "linux", architecture },
  });
  const index = blob({
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: [entry(amd, "amd64"), entry(arm, "arm64")],
  });
  let partial: string;
  let complete: string;
  before(async () => {
    const top = [
      {
        mediaType: OCI_INDEX,
        digest: index.digest,
        size: index.size,
        annotations: { "io.containerd.image.name": "docker.io/x/partial:1" },
      },
    ];
    // What docker save writes for an image pulled for linux/amd64: the index, and amd64's blobs only.
    partial = await writeTar(
      join(work.path, "partial.tar"),
      ociLayoutItems(top, [index, ...imageBlobs(amd)]),
    );
    complete = await writeTar(
      join(work.path, "complete.tar"),
      ociLayoutItems(top, [index, ...imageBlobs(amd), ...imageBlobs(arm)]),
    );
  });

  test("opened as it is: the platform present, the one missing", async () => {
    const archive = await openArchive(partial);
    const [only] = archive.images;
    assert.ok(only);
    assert.deepEqual(only.platforms, ["linux/amd64"]);
    assert.deepEqual(
      only.missing.map((m) => [m.descriptor.digest, m.platform]),
      [[arm.manifest.digest, "linux/arm64"]],
    );
    const json = inspectJson(archive).images[0];
    assert.equal(json?.complete, false);
    assert.deepEqual(json?.missingPlatforms, ["linux/arm64"]);
    assert.match(inspectText(archive), /missing {5}linux\/arm64: listed by the index, not in the file/);
  });

  test("a platform whose manifest is there but not its config and layers is missing too (docker save does that)", async () => {
    const top = [{ mediaType: OCI_INDEX, digest: index.digest, size: index.size }];
    const file = await writeTar(
      join(work.path, "partial-manifest-only.tar"),
      ociLayoutItems(top, [index, ...imageBlobs(amd), arm.manifest]),
    );
    const [only] = (await openArchive(file)).images;
    assert.deepEqual(only?.platforms, ["linux/amd64"]);
    assert.deepEqual(
      only?.missing.map((m) => m.platform),
      ["linux/arm64"],
    );
    const source = await tarballSource(file, { sourcePlatform: "linux/amd64" });
    assert.equal(source.digest, amd.manifest.digest);
  });

  test("pushed whole it is refused, saying what is missing and how to push what is there", async () => {
    const error = await refusal(
      tarballSource(partial, {}),
      /holds an incomplete multi-platform image docker.io\/x\/partial:1/,
    );
    assert.match(error.message, /lists the platform linux\/arm64, which the file does not hold/);
    assert.match(error.message, /PLUGIN_SOURCE_PLATFORM=linux\/amd64/);
    assert.doesNotMatch(error.message, /check that the copy is complete/);
    assert.ok(error instanceof UsageError);
    assert.equal(error.setting, "PLUGIN_SOURCE_PLATFORM");
    const cli = await refusal(
      tarballSource(partial, {}, (key) => (key === "sourcePlatform" ? "--platform" : key)),
      /--platform linux\/amd64/,
    );
    assert.ok(cli instanceof UsageError);
    assert.equal(cli.setting, "--platform");
  });

  test("a platform that is there is pushed as its own manifest, at its digest; complete indexes too", async () => {
    for (const file of [partial, complete]) {
      const source = await tarballSource(file, { sourcePlatform: "linux/amd64" });
      assert.equal(source.digest, amd.manifest.digest);
      assert.deepEqual(source.image.descriptor, {
        mediaType: OCI_MANIFEST,
        digest: amd.manifest.digest,
        size: amd.manifest.size,
      });
      const plan = await source.archive.plan(source.image);
      assert.deepEqual(
        plan.manifests.map((m) => m.descriptor.digest),
        [amd.manifest.digest],
      );
      assert.ok(plan.manifests[0]?.bytes.equals(amd.manifest.bytes));
      assert.deepEqual(
        plan.blobs.map((b) => b.digest).sort(),
        [amd.config.digest, ...amd.layers.map((l) => l.digest)].sort(),
      );
    }
    const arm64 = await tarballSource(complete, { sourcePlatform: "linux/arm64/v8" });
    assert.equal(arm64.digest, arm.manifest.digest);
    await refusal(
      tarballSource(partial, { sourcePlatform: "linux/arm64" }),
      /"linux\/arm64" is listed by the index .* but the file does not hold it/,
    );
    await refusal(
      tarballSource(complete, { sourcePlatform: "linux/s390x" }),
      /is not a platform of .*it holds linux\/amd64, linux\/arm64/,
    );
    await refusal(
      tarballSource(complete, { sourcePlatform: "linux/amd64", expectedDigest: index.digest }),
      /is sha256:[a-f0-9]+, but the image in .* for linux\/amd64 has digest/,
    );
  });

  test("platforms compare as containerd normalises them", () => {
    assert.equal(normalizePlatform("linux/arm64"), "linux/arm64/v8");
    assert.equal(normalizePlatform("linux/arm"), "linux/arm/v7");
    assert.equal(normalizePlatform("linux/amd64/v1"), "linux/amd64");
    assert.ok(platformMatches("linux/aarch64", "linux/arm64/v8"));
    assert.ok(!platformMatches("linux/arm/v6", "linux/arm/v7"));
  });
});

test("a run stopped by SIGTERM while it reads a pipe leaves no temporary file", async () => {
  const { spawn } = await import("node:child_process");
  const { fileURLToPath } = await import("node:url");
  const open = fileURLToPath(new URL("../../lib/archive/open.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { openArchive } = await import(${JSON.stringify(open)}); await openArchive("-", { tempDir: ${JSON.stringify(spool)} });`,
    ],
    { stdio: ["pipe", "ignore", "inherit"] },
  );
  // Half a tarball, and the pipe kept open: the run is waiting for the rest.
  child.stdin.write((await readFile(plain)).subarray(0, 2048));
  for (let i = 0; i < 100 && (await readdir(spool)).length === 0; i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal((await readdir(spool)).length, 1, "the temporary copy exists while the pipe is read");
  const ended = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on("exit", (_code, signal) => resolve(signal)),
  );
  child.kill("SIGTERM");
  assert.equal(await ended, "SIGTERM", "ended by the signal, as a shell reports it");
  await assertSpoolEmpty();
});
