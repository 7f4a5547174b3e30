// The tar index on tars real writers make: GNU tar in every format it writes (ustar, pax, gnu, oldgnu,
// v7), Python's tarfile in its three, and BusyBox tar; long names as ustar prefixes, GNU ././@LongLink
// entries and PAX path records; and GNU tar's sparse files in each sparse format, which are refused.
// Written at test time from one folder, so each writer's tar must index to that folder's files.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { indexTar } from "../../lib/archive/tar-index.js";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import {
  type TarWriter,
  type TreeItem,
  writerName,
  writeTarWith,
  writeTree,
} from "../helpers/tar-writers.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  work = await tempDir("buildx-step-tar-corpus-");
});
after(async () => {
  await work?.remove();
});

const big = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 31) % 251));

/** Names every writer stores: v7's limit is 99 bytes, without a prefix field. */
const basic: TreeItem[] = [
  { name: "short.txt", data: "hello\n" },
  { name: "dir/nested/file.json", data: '{"a":1}' },
  { name: "a".repeat(99), data: "ninety-nine" },
  { name: "big.bin", data: big },
  { name: "empty", data: "" },
  { name: "sym", symlinkTo: "short.txt" },
  { name: "hard", hardlinkTo: "big.bin" },
];
/** Longer than the name field, short enough for ustar's prefix field. */
const prefixed: TreeItem = {
  name: `${"p".repeat(60)}/${"r".repeat(60)}/${"q".repeat(90)}.bin`,
  data: "prefix",
};
/** Longer than name and prefix together: a GNU long-name entry or a PAX path record. */
const long: TreeItem = { name: `${"x".repeat(200)}/${"y".repeat(150)}.txt`, data: "long name" };

const corpus: { writer: TarWriter; items: TreeItem[] }[] = [
  { writer: { tool: "gnu-tar", format: "v7" }, items: basic },
  { writer: { tool: "gnu-tar", format: "ustar" }, items: [...basic, prefixed] },
  { writer: { tool: "gnu-tar", format: "pax" }, items: [...basic, prefixed, long] },
  { writer: { tool: "gnu-tar", format: "gnu" }, items: [...basic, prefixed, long] },
  { writer: { tool: "gnu-tar", format: "oldgnu" }, items: [...basic, prefixed, long] },
  { writer: { tool: "python", format: "USTAR_FORMAT" }, items: [...basic, prefixed] },
  { writer: { tool: "python", format: "GNU_FORMAT" }, items: [...basic, prefixed, long] },
  { writer: { tool: "python", format: "PAX_FORMAT" }, items: [...basic, prefixed, long] },
  { writer: { tool: "busybox" }, items: [...basic, prefixed, long] },
];

function fileContent(items: readonly TreeItem[], name: string): Buffer | undefined {
  const item = items.find((candidate) => candidate.name === name);
  if (!item) return undefined;
  if ("data" in item) return Buffer.from(item.data);
  if ("symlinkTo" in item) return fileContent(items, item.symlinkTo);
  if ("hardlinkTo" in item) return fileContent(items, item.hardlinkTo);
  return undefined;
}

let count = 0;
async function tarOf(writer: TarWriter, items: readonly TreeItem[]): Promise<string> {
  count += 1;
  const root = join(work.path, `tree-${count}`);
  await writeTree(root, items);
  return writeTarWith(writer, root, join(work.path, `corpus-${count}.tar`));
}

for (const { writer, items } of corpus) {
  test(`${writerName(writer)}: every file is indexed with its name, size and bytes; folders and links too`, async () => {
    const path = await tarOf(writer, items);
    const index = await indexTar(path);
    const bytes = await readFile(path);
    for (const item of items) {
      const expected = fileContent(items, item.name);
      const entry = index.file(item.name);
      assert.ok(entry, `${item.name} is indexed`);
      assert.equal(entry.size, expected?.length, item.name);
      assert.ok(
        bytes.subarray(entry.offset, entry.offset + entry.size).equals(expected as Buffer),
        item.name,
      );
    }
    assert.equal(index.entries.get("sym")?.type, "symlink");
    assert.equal(index.entries.get("dir/nested")?.type, "directory");
    // And nothing else: no file the folder does not have.
    const names = new Set(items.map((item) => item.name));
    for (const entry of index.entries.values()) {
      if (entry.type === "file") assert.ok(names.has(entry.name), `${entry.name} is in the folder`);
    }
  });
}

test("the long name is stored as each format stores it: GNU ././@LongLink, PAX path record", async () => {
  const stored = async (writer: TarWriter) =>
    (await readFile(await tarOf(writer, [long]))).toString("latin1");
  assert.match(await stored({ tool: "gnu-tar", format: "gnu" }), /\.\/\.\/@LongLink/);
  assert.match(await stored({ tool: "python", format: "GNU_FORMAT" }), /\.\/\.\/@LongLink/);
  assert.match(await stored({ tool: "gnu-tar", format: "pax" }), /\d+ path=x{200}\//);
  assert.match(await stored({ tool: "python", format: "PAX_FORMAT" }), /\d+ path=x{200}\//);
  // The ustar writers cannot store it at all.
  await assert.rejects(tarOf({ tool: "gnu-tar", format: "ustar" }, [long]));
});

/** The type flag of the header block whose name field is `name`. */
function typeflagOf(bytes: Buffer, name: string): string | undefined {
  for (let block = 0; block + 512 <= bytes.length; block += 512) {
    if (
      bytes
        .subarray(block, block + 100)
        .toString("latin1")
        .replace(/\0+$/, "") === name
    )
      return String.fromCharCode(bytes[block + 156] as number);
  }
  return undefined;
}

const holey: TreeItem = { name: "index.json", holeThen: Buffer.from("{}\n"), size: 1024 * 1024 };

for (const sparse of ["gnu", "0.0", "0.1", "1.0"] as const) {
  const writer: TarWriter = { tool: "gnu-tar", format: sparse === "gnu" ? "gnu" : "pax", sparse };
  test(`${writerName(writer)}: a sparse file is refused as ambiguous, naming the tarball`, async () => {
    const path = await tarOf(writer, [{ name: "short.txt", data: "hello\n" }, holey]);
    const bytes = await readFile(path);
    // The writer did store it sparse (the file system keeps the hole), or the test proves nothing.
    if (sparse === "gnu") assert.equal(typeflagOf(bytes, "index.json"), "S");
    else assert.ok(bytes.toString("latin1").includes("GNU.sparse"), "stored sparse");
    await assert.rejects(indexTar(path), (error: unknown) => {
      assert.ok(error instanceof ProtocolError, String(error));
      assert.equal(exitCodeOf(error), 2);
      assert.ok(error.message.includes(path), error.message);
      assert.match(error.message, /sparse/);
      assert.match(error.message, /AMBIGUOUS/);
      return true;
    });
  });
}
