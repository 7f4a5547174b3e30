// Properties of the tar index, checked on generated input (fast-check; a failure prints the seed and
// the smallest input that fails):
// - whatever names and sizes a folder holds, the tar that GNU tar, Python's tarfile or BusyBox writes of it
//   indexes to those names and sizes, and each entry's offset points at its bytes;
// - random byte changes to a valid tar either leave its index as it was or are refused with the
//   archive's error (exit 2, naming the file), never another error and never a hang; with the
//   header's checksum fixed after the change (so the header is read), an index that is returned stays
//   inside the file and inside the archive.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import fc from "fast-check";
import { indexTar, type TarEntry } from "../../lib/archive/tar-index.js";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { type TarWriter, type TreeItem, writeTarWith, writeTree } from "../helpers/tar-writers.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
after(async () => {
  await work?.remove();
});

let count = 0;
function nextPath(what: string): string {
  count += 1;
  return join(work.path, `${what}-${count}`);
}

/** Bytes that differ from file to file, so that an offset pointing at the wrong file's data is seen. */
function contentOf(name: string, size: number): Buffer {
  let seed = 0;
  for (const char of name) seed = (seed * 31 + char.charCodeAt(0)) % 251;
  return Buffer.from(Array.from({ length: size }, (_, i) => (seed + i * 7) % 256));
}

/** The index of `path`, or its rejection; a run that takes longer than a few seconds is a hang. */
async function indexWithin(path: string): Promise<{ entries: Map<string, TarEntry> } | { error: unknown }> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`indexing ${path} did not end within 10 s`)), 10_000);
  });
  try {
    return await Promise.race([indexTar(path), hang]);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith("indexing ")) throw error;
    return { error };
  } finally {
    clearTimeout(timer);
  }
}

function assertArchiveRefusal(error: unknown, path: string): void {
  assert.ok(
    error instanceof ProtocolError,
    `the archive's error, not ${String((error as Error)?.stack ?? error)}`,
  );
  assert.equal(exitCodeOf(error), 2);
  assert.ok(error.message.includes(path), `the message names the tarball: ${error.message}`);
}

/** A path part a file system and every writer take: not `.` or `..`. */
const part = fc.stringMatching(/^[a-z0-9_.-]{1,40}$/).filter((text) => text !== "." && text !== "..");

/** Files whose paths do not clash (no file is also another file's folder). */
const files = fc
  .uniqueArray(
    fc.record({
      name: fc.array(part, { minLength: 1, maxLength: 5 }).map((parts) => parts.join("/")),
      size: fc.oneof(fc.nat(2000), fc.nat(100_000), fc.constant(0)),
    }),
    { selector: (file) => file.name, minLength: 1, maxLength: 10 },
  )
  .map((all) =>
    all.filter(
      (file, i) =>
        !all.some(
          (other, j) =>
            j !== i &&
            (other.name.startsWith(`${file.name}/`) || (j < i && file.name.startsWith(`${other.name}/`))),
        ),
    ),
  );

/** The writers that store any name (the ustar and v7 ones refuse long names). */
const anyNameWriter = fc.constantFrom<TarWriter>(
  { tool: "gnu-tar", format: "pax" },
  { tool: "gnu-tar", format: "gnu" },
  { tool: "python", format: "PAX_FORMAT" },
  { tool: "python", format: "GNU_FORMAT" },
  { tool: "busybox" },
);

test("any folder a real writer archives indexes to its names and sizes, each offset at its bytes", async () => {
  await fc.assert(
    fc.asyncProperty(files, anyNameWriter, async (generated, writer) => {
      const root = nextPath("tree");
      const items: TreeItem[] = generated.map((file) => ({
        name: file.name,
        data: contentOf(file.name, file.size),
      }));
      await writeTree(root, items);
      const path = await writeTarWith(writer, root, `${root}.tar`);
      const index = await indexTar(path);
      const bytes = await readFile(path);
      const indexed = [...index.entries.values()].filter((entry) => entry.type === "file");
      assert.deepEqual(
        indexed.map((entry) => [entry.name, entry.size]).sort(),
        generated.map((file) => [file.name, file.size]).sort(),
      );
      for (const entry of indexed) {
        const data = bytes.subarray(entry.offset, entry.offset + entry.size);
        assert.ok(data.equals(contentOf(entry.name, entry.size)), `${entry.name}'s bytes`);
      }
    }),
    { numRuns: 40 },
  );
});

/** Two valid tars to damage: GNU tar's PAX (extended headers on every entry) and tarfile's GNU (long-name entries). */
const bases: Buffer[] = [];
before(async () => {
  work = await tempDir("buildx-step-tar-properties-");
  const items: TreeItem[] = [
    { name: "index.json", data: '{"schemaVersion":2}' },
    { name: `blobs/sha256/${"a".repeat(64)}`, data: contentOf("layer", 1500) },
    { name: `${"d".repeat(90)}/${"e".repeat(90)}.json`, data: "long" },
    { name: "empty", data: "" },
    { name: "link", symlinkTo: "index.json" },
  ];
  const root = nextPath("base");
  await writeTree(root, items);
  for (const writer of [
    { tool: "gnu-tar", format: "pax" },
    { tool: "python", format: "GNU_FORMAT" },
  ] as const) {
    bases.push(await readFile(await writeTarWith(writer, root, nextPath("base-tar"))));
  }
});

/** GNU tar's rule: the sum of the header's bytes, its checksum field counted as spaces. */
function fixChecksum(block: Buffer): void {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
}

/**
 * Where a tar's headers are, and the data blocks of its long-name and PAX entries (`L`, `K`, `x`, `g`):
 * the bytes that say what the entries are. A checksum covers a header only, so a change in a long name
 * makes another valid tar, not a damaged one.
 */
function layout(tar: Buffer): { headers: Set<number>; described: Set<number> } {
  const headers = new Set<number>();
  const described = new Set<number>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const block = tar.subarray(at, at + 512);
    if (block.every((byte) => byte === 0)) break;
    headers.add(at);
    const size = Number.parseInt(
      block.subarray(124, 136).toString("latin1").replace(/\0.*$/s, "").trim() || "0",
      8,
    );
    const blocks = Math.ceil(size / 512);
    const meta = "LKxg".includes(String.fromCharCode(block[156] as number));
    for (let i = 1; i <= blocks; i++) if (meta) described.add(at + 512 * i);
    at += 512 * (1 + blocks);
  }
  for (const header of headers) described.add(header);
  return { headers, described };
}

const damage = fc.record({
  base: fc.nat(1),
  changes: fc.array(fc.record({ at: fc.nat(), value: fc.nat(255) }), { minLength: 1, maxLength: 8 }),
  /** Whether the changed headers get a right checksum again, so that their fields are read. */
  headersStayValid: fc.boolean(),
  /** Where to cut the file, if anywhere. */
  cut: fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.nat(), weight: 1 }),
});

const summary = (entries: Map<string, TarEntry>) =>
  [...entries.values()].map((entry) => [entry.name, entry.type, entry.offset, entry.size, entry.target]);

test("a damaged tar indexes as before or is refused with the archive's error; never a crash or a hang", async () => {
  const originals = await Promise.all(
    bases.map(async (base) => {
      const path = nextPath("original.tar");
      await writeFile(path, base);
      return summary(((await indexWithin(path)) as { entries: Map<string, TarEntry> }).entries);
    }),
  );
  await fc.assert(
    fc.asyncProperty(damage, async ({ base, changes, headersStayValid, cut }) => {
      const original = bases[base] as Buffer;
      const { headers, described } = layout(original);
      let bytes = Buffer.from(original);
      const changedHeaders = new Set<number>();
      // A changed long name or PAX record, or a changed header whose checksum is made right again.
      let redescribed = false;
      for (const { at, value } of changes) {
        const position = at % bytes.length;
        const block = position - (position % 512);
        if (headers.has(block)) changedHeaders.add(block);
        else if (described.has(block)) redescribed = true;
        bytes[position] = value;
      }
      if (headersStayValid) {
        for (const block of changedHeaders) fixChecksum(bytes.subarray(block, block + 512));
        redescribed ||= changedHeaders.size > 0;
      }
      if (cut !== undefined) bytes = bytes.subarray(0, cut % (bytes.length + 1));
      const path = nextPath("damaged.tar");
      await writeFile(path, bytes);
      const result = await indexWithin(path);
      if ("error" in result) {
        assertArchiveRefusal(result.error, path);
        return;
      }
      if (!redescribed) {
        // Only data, padding, a header now failing its checksum or a cut in the trailing zeros changed:
        // the index is the original's.
        assert.deepEqual(summary(result.entries), originals[base]);
        return;
      }
      for (const entry of result.entries.values()) {
        assert.ok(
          entry.offset % 512 === 0 && entry.offset + entry.size <= bytes.length,
          `${entry.name} in the file`,
        );
        for (const name of [entry.name, entry.target ?? "x"]) {
          assert.ok(!name.startsWith("/") && !name.split("/").includes(".."), `${name} inside the archive`);
        }
      }
    }),
    { numRuns: 400 },
  );
});
