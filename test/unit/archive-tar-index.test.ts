import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { normalizeEntryName, resolveLinkTarget } from "../../lib/archive/entry-name.js";
import { indexTar } from "../../lib/archive/tar-index.js";
import { UsageError } from "../../lib/errors.js";
import { writeTar } from "../helpers/archive-fixtures.js";
import { padBlock, paxRecords, ustarHeader } from "../helpers/raw-tar.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir("buildx-step-archive-");
});
after(async () => {
  await work?.remove();
});

/** Asserts a UsageError (exit 2) whose message names the tarball and matches `pattern`. */
async function refused(promise: Promise<unknown>, path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected a UsageError, got ${String(error)}`);
    assert.equal(error.exitCode, 2);
    assert.ok(error.message.includes(path), `message names the tarball: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

test("entry names: ./ prefixes and repeated slashes are normalised, escapes refused", () => {
  assert.equal(normalizeEntryName("./blobs//sha256/abc"), "blobs/sha256/abc");
  assert.equal(normalizeEntryName("./"), "");
  assert.equal(normalizeEntryName("a/./b/"), "a/b");
  assert.throws(() => normalizeEntryName("../etc/passwd"), /leave the archive/);
  assert.throws(() => normalizeEntryName("blobs/../../x"), /leave the archive/);
  assert.throws(() => normalizeEntryName("/etc/passwd"), /leave the archive/);
  assert.equal(resolveLinkTarget("abc/layer.tar", "../def/layer.tar"), "def/layer.tar");
  assert.throws(() => resolveLinkTarget("abc/layer.tar", "../../x"), /leave the archive/);
  assert.throws(() => resolveLinkTarget("layer.tar", "/etc/shadow"), /leave the archive/);
});

test("offsets and sizes of entries match their bytes in the file", async () => {
  const path = await writeTar(join(work.path, "plain.tar"), [
    { name: "./dir", type: "directory" },
    { name: "./dir/a.txt", data: "hello" },
    { name: "b.bin", data: Buffer.alloc(1500, 7) },
    { name: "empty", data: "" },
  ]);
  const index = await indexTar(path);
  const bytes = await readFile(path);
  const a = index.file("dir/a.txt");
  assert.ok(a);
  assert.equal(bytes.subarray(a.offset, a.offset + a.size).toString(), "hello");
  const b = index.file("b.bin");
  assert.equal(b?.size, 1500);
  assert.ok(bytes.subarray(b.offset, b.offset + b.size).every((x) => x === 7));
  assert.equal(index.file("empty")?.size, 0);
  assert.equal(index.entries.get("dir")?.type, "directory");
  assert.equal(index.file("dir"), undefined);
});

test("PAX path records and long names (PAX and GNU ././@LongLink) are read", async () => {
  const long = `${"d".repeat(120)}/${"f".repeat(150)}.json`;
  const path = await writeTar(join(work.path, "pax.tar"), [
    { name: long, data: "long" },
    // The PAX `path` wins over the name in the ustar header.
    { name: "short-name", data: "from pax", pax: { path: "renamed/by/pax.txt" } },
  ]);
  const index = await indexTar(path);
  const bytes = await readFile(path);
  const longEntry = index.file(long);
  assert.ok(longEntry, "the long PAX name is indexed");
  assert.equal(bytes.subarray(longEntry.offset, longEntry.offset + longEntry.size).toString(), "long");
  const renamed = index.file("renamed/by/pax.txt");
  assert.ok(renamed);
  assert.equal(bytes.subarray(renamed.offset, renamed.offset + renamed.size).toString(), "from pax");
  assert.equal(index.file("short-name"), undefined);

  // GNU tar writes ././@LongLink entries for names over 100 bytes in --format=gnu.
  const tree = join(work.path, "gnu-src");
  const name = `${"g".repeat(180)}.txt`;
  await mkdir(join(tree, "sub"), { recursive: true });
  await writeFile(join(tree, "sub", name), "gnu long name");
  const gnu = join(work.path, "gnu.tar");
  execFileSync("tar", ["--format=gnu", "-C", tree, "-cf", gnu, "."]);
  assert.ok((await readFile(gnu)).includes("././@LongLink"), "GNU tar wrote a long-name entry");
  const gnuIndex = await indexTar(gnu);
  const gnuEntry = gnuIndex.file(`sub/${name}`);
  assert.ok(gnuEntry, `indexed: ${[...gnuIndex.entries.keys()].join(", ")}`);
  const gnuBytes = await readFile(gnu);
  assert.equal(
    gnuBytes.subarray(gnuEntry.offset, gnuEntry.offset + gnuEntry.size).toString(),
    "gnu long name",
  );
});

test("symbolic and hard links resolve to the file they name, inside the archive only", async () => {
  const path = await writeTar(join(work.path, "links.tar"), [
    { name: "one/layer.tar", data: "layer bytes" },
    { name: "two/layer.tar", type: "symlink", linkname: "../one/layer.tar" },
    { name: "three/layer.tar", type: "link", linkname: "one/layer.tar" },
  ]);
  const index = await indexTar(path);
  assert.equal(index.file("two/layer.tar")?.name, "one/layer.tar");
  assert.equal(index.file("three/layer.tar")?.name, "one/layer.tar");

  const escaping = await writeTar(join(work.path, "link-escape.tar"), [
    { name: "a/layer.tar", type: "symlink", linkname: "../../../etc/shadow" },
  ]);
  await refused(
    indexTar(escaping),
    escaping,
    /a\/layer\.tar -> \.\.\/\.\.\/\.\.\/etc\/shadow.*leave the archive/,
  );
});

test("names that leave the archive are refused, naming the entry", async () => {
  const dotdot = await writeTar(join(work.path, "dotdot.tar"), [
    { name: "index.json", data: "{}" },
    { name: "blobs/../../evil", data: "x" },
  ]);
  await refused(indexTar(dotdot), dotdot, /"blobs\/\.\.\/\.\.\/evil" tries to leave the archive/);
  const absolute = await writeTar(join(work.path, "absolute.tar"), [{ name: "/etc/cron.d/x", data: "x" }]);
  await refused(indexTar(absolute), absolute, /"\/etc\/cron\.d\/x" tries to leave the archive/);
});

test("not a tar, truncated data, a missing end marker, and duplicate files are refused", async () => {
  const text = join(work.path, "text.tar");
  await writeFile(text, "this is not a tar file\n".repeat(100));
  await refused(indexTar(text), text, /is not a tar file/);
  const tiny = join(work.path, "tiny.tar");
  await writeFile(tiny, "abc");
  await refused(indexTar(tiny), tiny, /is not a tar file/);
  const gzip = join(work.path, "gz.tar");
  await writeFile(gzip, execFileSync("gzip", ["-c"], { input: Buffer.alloc(4096) }));
  await refused(indexTar(gzip), gzip, /is not a tar file/);

  const cut = await writeTar(join(work.path, "cut.tar"), [
    { name: "a", data: "a" },
    { name: "big", data: Buffer.alloc(10_000, 1) },
  ]);
  await truncate(cut, 512 * 3 + 4000);
  await refused(indexTar(cut), cut, /truncated: entry "big" needs 10000 bytes/);

  // Cut exactly after the last entry's data: the end-of-archive blocks are missing.
  const noEnd = await writeTar(join(work.path, "noend.tar"), [{ name: "a", data: "a" }]);
  await truncate(noEnd, 1024);
  await refused(indexTar(noEnd), noEnd, /truncated: .*without the end-of-archive marker/);

  // A header in the middle with a broken checksum.
  const corrupt = await writeTar(join(work.path, "corrupt.tar"), [
    { name: "a", data: "a" },
    { name: "b", data: "b" },
  ]);
  const bytes = await readFile(corrupt);
  bytes[1024 + 10] = 0x41;
  await writeFile(corrupt, bytes);
  await refused(indexTar(corrupt), corrupt, /corrupt tar header at offset 1024/);

  const twice = await writeTar(join(work.path, "twice.tar"), [
    { name: "blobs/sha256/x", data: "one" },
    { name: "./blobs/sha256/x", data: "two" },
  ]);
  await refused(indexTar(twice), twice, /"blobs\/sha256\/x" appears twice/);

  const missing = join(work.path, "does-not-exist.tar");
  await refused(indexTar(missing), missing, /no such file/);
  await refused(indexTar(work.path), work.path, /is a folder/);
});

test("sizes from PAX records and GNU base-256 fields, and PAX global headers, are honoured", async () => {
  const data = Buffer.from("x".repeat(700));
  const path = join(work.path, "sizes.tar");
  await writeFile(
    path,
    Buffer.concat([
      // A global header names nothing itself; its records apply to what follows unless overridden.
      ustarHeader("pax_global_header", paxRecords({ comment: "made by hand" }).length, { typeflag: "g" }),
      padBlock(paxRecords({ comment: "made by hand" })),
      // The ustar size says 0; the PAX record gives the real size (how tars hold entries over 8 GiB).
      ustarHeader("PaxHeaders/big", paxRecords({ size: "700", path: "pax-sized" }).length, { typeflag: "x" }),
      padBlock(paxRecords({ size: "700", path: "pax-sized" })),
      ustarHeader("ignored-name", 0),
      padBlock(data),
      ustarHeader("base256-sized", 700, { base256: true }),
      padBlock(data),
      ustarHeader("after", 1),
      padBlock(Buffer.from("!")),
      Buffer.alloc(1024),
    ]),
  );
  const index = await indexTar(path);
  const bytes = await readFile(path);
  const content = (name: string) => {
    const entry = index.file(name);
    assert.ok(entry, `${name} indexed: ${[...index.entries.keys()].join(", ")}`);
    return bytes.subarray(entry.offset, entry.offset + entry.size).toString();
  };
  assert.equal(content("pax-sized"), data.toString());
  assert.equal(content("base256-sized"), data.toString());
  assert.equal(content("after"), "!", "the entries after them are found at the right offsets");
  assert.equal(index.file("ignored-name"), undefined);
  assert.equal(index.entries.has("pax_global_header"), false);
});
