import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdir, readFile, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { normalizeEntryName, resolveLinkTarget } from "../../lib/archive/entry-name.js";
import { indexTar } from "../../lib/archive/tar-index.js";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { writeTar } from "../helpers/archive-fixtures.js";
import {
  fileMember,
  gnuLongMember,
  member,
  padBlock,
  paxMember,
  paxRecords,
  tarFile,
  tarHeader,
  ustarHeader,
} from "../helpers/raw-tar.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir("buildx-step-archive-");
});
after(async () => {
  await work?.remove();
});

/** Asserts a refusal of the input (exit 2) whose message names the tarball and matches `pattern`. */
async function refused(promise: Promise<unknown>, path: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ProtocolError, `expected a refusal of the input, got ${String(error)}`);
    assert.equal(exitCodeOf(error), 2);
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
    { name: "three.tar", type: "link", linkname: "one/layer.tar" },
  ]);
  const index = await indexTar(path);
  assert.equal(index.file("two/layer.tar")?.name, "one/layer.tar");
  assert.equal(index.file("three.tar")?.name, "one/layer.tar");

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

/** Writes a tar file made of raw members (and the end marker) into the work folder. */
let rawCounter = 0;
async function rawTar(members: Buffer[], trailer: Buffer | undefined = undefined): Promise<string> {
  rawCounter += 1;
  const path = join(work.path, `raw-${rawCounter}.tar`);
  await writeFile(path, trailer ? Buffer.concat([...members, trailer]) : tarFile(members));
  return path;
}

/** Refused as AMBIGUOUS (exit 2), with `pattern` in the message and the advice to rebuild. */
async function ambiguous(path: string, pattern: RegExp): Promise<void> {
  await refused(indexTar(path), path, pattern);
  await refused(indexTar(path), path, /is AMBIGUOUS \(different tar readers would see different files/);
  await refused(indexTar(path), path, /not damaged.*rebuild it with docker save/);
}

const A = '{"image":"A"}';
const B = '{"image":"B"}';

test("ambiguous: any sparse entry (GNU.sparse.* records, sparse 0.1 names, type S)", async () => {
  // Sparse 0.1: Go's archive/tar names the entry by GNU.sparse.name (index.json), not by its path.
  await ambiguous(
    await rawTar([
      fileMember("index.json", A),
      paxMember({ "GNU.sparse.name": "index.json", "GNU.sparse.map": `0,${B.length}`, path: "decoy" }),
      fileMember("decoy", B),
    ]),
    /sparse-file record GNU\.sparse\.name=index\.json/,
  );
  await ambiguous(
    await rawTar([paxMember({ "GNU.sparse.major": "1", "GNU.sparse.minor": "0" }), fileMember("x", B)]),
    /sparse-file record GNU\.sparse\.major/,
  );
  await ambiguous(
    await rawTar([paxMember({ "GNU.sparse.size": "10" }, { global: true }), fileMember("x", B)]),
    /PAX global header at offset 0 has the sparse-file record/,
  );
  await ambiguous(
    await rawTar([member({ name: "index.json", typeflag: "S", format: "gnu" }, B)]),
    /"index\.json" at offset 0 is a GNU sparse file \(type S\)/,
  );
});

test("ambiguous: folders, links, devices and FIFOs that claim data (a second layout hidden in it)", async () => {
  // What Go's archive/tar reads as entries after the FIFO: another index.json.
  const hidden = fileMember("index.json", B);
  const kinds: [string, string, RegExp][] = [
    ["6", "fifo", /"fifo" at offset 1024 is a device or FIFO whose header claims 1024 bytes/],
    ["3", "chr", /"chr" at offset 1024 is a device or FIFO/],
    ["4", "blk", /"blk" at offset 1024 is a device or FIFO/],
    ["5", "dir/", /"dir\/" at offset 1024 is a folder whose header claims 1024 bytes/],
    ["2", "sym", /"sym" at offset 1024 is a symbolic link whose header claims/],
    ["1", "hard", /"hard" at offset 1024 is a hard link whose header claims/],
  ];
  for (const [typeflag, name, pattern] of kinds) {
    const path = await rawTar([
      fileMember("index.json", A),
      tarHeader({ name, typeflag, size: hidden.length, linkname: typeflag <= "2" ? "index.json" : "" }),
      hidden,
    ]);
    await ambiguous(path, pattern);
  }
  // A PAX size gives the folder its data just the same.
  await ambiguous(
    await rawTar([paxMember({ size: "512" }), tarHeader({ name: "d/", typeflag: "5" }), Buffer.alloc(512)]),
    /"d\/" at offset 1024 is a folder whose header claims 512 bytes/,
  );
});

test("ambiguous: a PAX path and a GNU long name that disagree (Go takes one, GNU tar the other)", async () => {
  await ambiguous(
    await rawTar([paxMember({ path: "decoy" }), gnuLongMember("L", "index.json"), fileMember("short", B)]),
    /named "decoy" by a PAX path and "index\.json" by a GNU long name: Go's archive\/tar .* takes the long name, GNU tar the PAX path/,
  );
  await ambiguous(
    await rawTar([
      fileMember("target-a", A),
      paxMember({ linkpath: "target-a" }),
      gnuLongMember("K", "target-b"),
      member({ name: "link", typeflag: "2", linkname: "target-a" }),
    ]),
    /links to "target-a" by a PAX linkpath and to "target-b" by a GNU long link name/,
  );
  // The same name both ways is one name.
  const agreeing = await indexTar(
    await rawTar([paxMember({ path: "same/name" }), gnuLongMember("L", "same/name"), fileMember("short", A)]),
  );
  assert.equal(agreeing.file("same/name")?.size, A.length);
});

test("ambiguous: a name given twice, whatever lies between (index.json, index.json/, index.json)", async () => {
  await ambiguous(
    await rawTar([
      fileMember("index.json", A),
      member({ name: "index.json/", typeflag: "5" }),
      fileMember("index.json", B),
    ]),
    /entry "index\.json" appears twice \(a file, then a folder\)/,
  );
  await ambiguous(
    await rawTar([member({ name: "index.json/", typeflag: "5" }), fileMember("./index.json", B)]),
    /entry "index\.json" appears twice \(a folder, then a file\)/,
  );
  await ambiguous(
    await rawTar([fileMember("index.json", A), member({ name: "index.json", typeflag: "6" })]),
    /"index\.json" appears twice \(a file, then a device or FIFO\)/,
  );
  await ambiguous(
    await rawTar([fileMember("blobs", A), fileMember("blobs/sha256/x", B)]),
    /entry "blobs\/sha256\/x" is inside "blobs", which is a file/,
  );
  await ambiguous(
    await rawTar([
      member({ name: "blobs", typeflag: "2", linkname: "elsewhere" }),
      fileMember("blobs/sha256/x", B),
    ]),
    /inside "blobs", which is a symbolic link/,
  );
  await ambiguous(
    await rawTar([fileMember("blobs/sha256/x", B), fileMember("blobs/sha256", A)]),
    /entry "blobs\/sha256" is a file, but earlier entries are inside a folder of that name/,
  );
  await ambiguous(await rawTar([fileMember(".", A)]), /a file entry names the archive's root folder/);
  // Folders may repeat: real tars list a folder once per run of files in it.
  const folders = await indexTar(
    await rawTar([
      member({ name: "blobs/", typeflag: "5" }),
      fileMember("blobs/a", A),
      member({ name: "./blobs/", typeflag: "5" }),
      fileMember("blobs/b", B),
    ]),
  );
  assert.equal(folders.file("blobs/b")?.size, B.length);
});

test("ambiguous: PAX global headers that rename or resize, or that split a header from its entry", async () => {
  for (const key of ["path", "linkpath", "size"]) {
    await ambiguous(
      await rawTar([
        paxMember({ [key]: key === "size" ? "0" : "index.json" }, { global: true }),
        fileMember("x", B),
      ]),
      new RegExp(
        `PAX global header at offset 0 sets ${key}=.*GNU tar applies it to every entry that follows, Go's archive/tar .* ignores it`,
      ),
    );
  }
  await ambiguous(
    await rawTar([
      gnuLongMember("L", "index.json"),
      paxMember({ comment: "hello" }, { global: true }),
      fileMember("x", B),
    ]),
    /PAX global header at offset 1024 comes between the GNU long name at offset 0 and the entry/,
  );
});

test("ambiguous: two extended headers or long names for one entry; refused: one for no entry", async () => {
  await ambiguous(
    await rawTar([paxMember({ path: "index.json" }), paxMember({ mtime: "0" }), fileMember("x", B)]),
    /two PAX extended headers \(offsets 0 and 1024\) describe one entry/,
  );
  await ambiguous(
    await rawTar([gnuLongMember("L", "index.json"), gnuLongMember("L", "other"), fileMember("x", B)]),
    /two GNU long names \(offsets 0 and 1024\) describe one entry/,
  );
  const dangling = await rawTar([fileMember("a", A), gnuLongMember("L", "index.json")]);
  await refused(indexTar(dangling), dangling, /the GNU long name at offset 1024 describes no entry/);
  const danglingPax = await rawTar([fileMember("a", A), paxMember({ path: "index.json" })]);
  await refused(
    indexTar(danglingPax),
    danglingPax,
    /the PAX extended header at offset 1024 describes no entry/,
  );
});

test("ambiguous: PAX values readers apply differently (NUL, empty, a size the header contradicts)", async () => {
  await ambiguous(
    await rawTar([paxMember({ path: "index.json\0.decoy" }), fileMember("x", B)]),
    /has a path with a NUL byte .*GNU tar cuts the name there, Go's archive\/tar refuses it/,
  );
  await ambiguous(
    await rawTar([paxMember({ path: "" }), fileMember("index.json", B)]),
    /has an empty path: Go's archive\/tar then uses the header's own field, GNU tar the empty value/,
  );
  await ambiguous(
    await rawTar([paxMember({ size: "0" }), fileMember("x", B), fileMember("y", A)]),
    /entry "x" at offset 1024 has 13 bytes by its header and 0 by its PAX size/,
  );
  const hexSize = await rawTar([paxMember({ size: "0x2bc" }), fileMember("x", B)]);
  await refused(
    indexTar(hexSize),
    hexSize,
    /the PAX extended header at offset 0 has a malformed size "0x2bc"/,
  );
  const malformed = await rawTar([
    member({ name: "PaxHeaders/x", typeflag: "x" }, "99 path=abc\n"),
    fileMember("x", B),
  ]);
  await refused(
    indexTar(malformed),
    malformed,
    /the PAX header at offset 0 has a malformed record at byte 0/,
  );
});

test("ambiguous: trailing slashes on non-folders, unknown type flags, a lone zero block, long star prefixes", async () => {
  await ambiguous(
    await rawTar([member({ name: "index.json/" }, B)]),
    /"index\.json\/" at offset 0 ends with "\/" but is a regular file: .*find it as "index\.json"/,
  );
  await ambiguous(
    await rawTar([fileMember("a", A), member({ name: "index.json/", typeflag: "2", linkname: "a" })]),
    /ends with "\/" but is a symbolic link/,
  );
  // The pre-POSIX folder (type NUL, trailing slash) is a folder to every reader.
  const oldFolder = await indexTar(
    await rawTar([member({ name: "old/", typeflag: "\0" }), fileMember("old/a", A)]),
  );
  assert.equal(oldFolder.entries.get("old")?.type, "directory");
  for (const typeflag of ["D", "V", "M", "N", "X"]) {
    await ambiguous(
      await rawTar([member({ name: "index.json", typeflag, format: "gnu" }, B)]),
      new RegExp(`has the type flag "${typeflag}", which image tarballs never hold`),
    );
  }
  await ambiguous(
    await rawTar([fileMember("a", A), Buffer.alloc(512), fileMember("index.json", B)]),
    /a single zero block at offset 1024 is followed by more data.*GNU tar stops reading there/,
  );
  // One zero block and the end of the file: every reader stops there.
  const oneZero = await rawTar([fileMember("a", A)], Buffer.alloc(512));
  assert.equal((await indexTar(oneZero)).file("a")?.size, A.length);

  const prefix = "p".repeat(140);
  await ambiguous(
    await rawTar([member({ name: "index.json", prefix, starTrailer: true }, B)]),
    /star header whose name prefix "p{140}" is longer than star's 131-byte prefix field/,
  );
  const ustarPrefix = await indexTar(await rawTar([member({ name: "index.json", prefix }, B)]));
  assert.equal(ustarPrefix.file(`${prefix}/index.json`)?.size, B.length);
});

test("ambiguous: data after the end-of-archive marker (tar -i reads it as more entries); zero padding is fine", async () => {
  // Two tarballs one after the other (cat a.tar b.tar): Go's archive/tar and GNU tar see the first only.
  const first = tarFile([fileMember("index.json", A)]);
  await ambiguous(
    await rawTar([first], tarFile([fileMember("index.json", B)])),
    new RegExp(
      `goes on with data at offset ${first.length} after its end-of-archive marker \\(the two zero blocks at offset ${first.length - 1024}\\).*tar --ignore-zeros`,
    ),
  );
  // One stray byte far into the padding.
  const stray = Buffer.alloc(3 * 1024 * 1024);
  stray[stray.length - 1] = 1;
  await ambiguous(
    await rawTar([first], stray),
    /goes on with data at offset \d+ after its end-of-archive marker/,
  );
  // GNU tar pads its last record (10 KiB by default) with zeros: that is no data.
  const padded = await rawTar([first], Buffer.alloc(10240 - (first.length % 10240)));
  assert.equal((await indexTar(padded)).file("index.json")?.size, A.length);
});

test("ambiguous: a hard link inside a folder (tar resolves it from the root, go-containerregistry from the folder)", async () => {
  await ambiguous(
    await rawTar([
      fileMember("one/layer.tar", A),
      fileMember("three/one/layer.tar", B),
      member({ name: "three/layer.tar", typeflag: "1", linkname: "one/layer.tar" }),
    ]),
    /hard link "three\/layer\.tar" -> "one\/layer\.tar" is "one\/layer\.tar" to tar .* and "three\/one\/layer\.tar" to go-containerregistry/,
  );
  const noTarget = await rawTar([member({ name: "l", typeflag: "2" })]);
  await refused(indexTar(noTarget), noTarget, /the symbolic link "l" at offset 0 has no target/);
});

test("corrupt: negative or oversized base-256 sizes, a base-256 checksum", async () => {
  const negative = tarHeader({ name: "x", base256: true, size: 1 });
  negative[124] = 0xff;
  const fixChecksum = (header: Buffer) => {
    header.write("        ", 148);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    return header;
  };
  const negativePath = await rawTar([fixChecksum(negative)]);
  await refused(indexTar(negativePath), negativePath, /corrupt tar header at offset 0 \(bad size field\)/);
  const huge = tarHeader({ name: "x", base256: true, size: 1 });
  huge.fill(0xff, 125, 136);
  const hugePath = await rawTar([fixChecksum(huge)]);
  await refused(indexTar(hugePath), hugePath, /bad size field/);
  // Base-256 is for sizes and times; a checksum is octal to every reader.
  const checksum = tarHeader({ name: "x" });
  checksum[148] = 0x80;
  const checksumPath = await rawTar([checksum]);
  await refused(indexTar(checksumPath), checksumPath, /is not a tar file/);
});
