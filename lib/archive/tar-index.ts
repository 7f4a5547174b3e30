/**
 * One pass over the headers of a tar file: every entry's name, data offset and size, without reading any
 * entry's data (it is skipped by offset, so a 1 GiB layer costs one header read, not a GiB of I/O).
 * Blobs are then read later as byte ranges of the file.
 *
 * Formats read: POSIX ustar (name + prefix), GNU (`././@LongLink` entries `L`/`K` for long names and link
 * names, base-256 sizes), and PAX extended headers (`x` for the next entry, `g` for all that follow)
 * with `path`, `linkpath` and `size`. Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html
 * and GNU tar's format notes: https://www.gnu.org/software/tar/manual/html_node/Standard.html
 */
import { type FileHandle, open } from "node:fs/promises";
import { normalizeEntryName, resolveLinkTarget, UnsafeEntryName } from "./entry-name.js";
import { archiveError } from "./errors.js";

const BLOCK = 512;
/** Headers are read in chunks of this size, so that runs of small entries cost one read, not one each. */
const CHUNK = 64 * 1024;
/** Long names and PAX records are a few hundred bytes; more is not an image tarball. */
const MAX_META_SIZE = 1024 * 1024;

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  /** Normalised name (no `./`, no trailing `/`). */
  name: string;
  type: TarEntryType;
  /** Where the entry's data starts in the tar file. */
  offset: number;
  /** Bytes of data (0 for links and folders). */
  size: number;
  /** For links: the archive path linked to (already resolved against the link's folder). */
  target?: string;
}

export interface TarIndex {
  path: string;
  /** The tar file's size in bytes. */
  fileSize: number;
  /** Entries by normalised name (regular files, folders, links). */
  entries: Map<string, TarEntry>;
  /** Follows links: the regular-file entry `name` stands for, or undefined when there is none. */
  file(name: string): TarEntry | undefined;
}

/** Reads a tar header's numeric field: octal text, or GNU base-256 when the top bit of the first byte is set. */
function readNumber(block: Buffer, start: number, length: number): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // Base-256, big-endian, the rest of the first byte's bits included; negative values are not sizes.
    if (first & 0x40) return Number.NaN;
    let value = first & 0x3f;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] ?? 0);
    return value;
  }
  const text = block
    .subarray(start, start + length)
    .toString("latin1")
    .replace(/[\0 ]+$/, "")
    .replace(/^[ ]+/, "");
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) return Number.NaN;
  return Number.parseInt(text, 8);
}

function readString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The header checksum: the sum of its bytes with the checksum field read as spaces (unsigned or signed). */
function checksumMatches(block: Buffer): boolean {
  const recorded = readNumber(block, 148, 8);
  if (Number.isNaN(recorded)) return false;
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  return recorded === unsigned || recorded === signed;
}

/** PAX records: `"<length> <key>=<value>\n"`, the length counting the whole record. */
function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = Number.parseInt(data.subarray(at, space).toString("latin1"), 10);
    if (!Number.isFinite(length) || length <= 0 || at + length > data.length) break;
    const record = data.subarray(space + 1, at + length - 1).toString("utf8");
    const equals = record.indexOf("=");
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    at += length;
  }
  return records;
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** Reads headers at increasing offsets through a small window, so consecutive small entries share a read. */
class HeaderReader {
  #window = Buffer.alloc(0);
  #windowStart = 0;
  constructor(
    private readonly handle: FileHandle,
    private readonly fileSize: number,
  ) {}

  /** `length` bytes at `offset`, or fewer at the end of the file. */
  async read(offset: number, length: number): Promise<Buffer> {
    const end = offset + length;
    if (offset >= this.#windowStart && end <= this.#windowStart + this.#window.length) {
      return this.#window.subarray(offset - this.#windowStart, end - this.#windowStart);
    }
    const size = Math.min(Math.max(length, CHUNK), this.fileSize - offset);
    const buffer = Buffer.alloc(Math.max(size, 0));
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, filled, buffer.length - filled, offset + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.#window = buffer.subarray(0, filled);
    this.#windowStart = offset;
    return this.#window.subarray(0, Math.min(length, filled));
  }
}

/**
 * Indexes the tar file at `path`. Refused with a UsageError naming the file: not a tar (a header whose
 * checksum is wrong), truncated (an entry's data runs past the end of the file, or the file ends where
 * a header should be), an entry whose name leaves the archive, or a file entry given twice.
 */
export async function indexTar(path: string): Promise<TarIndex> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw archiveError(path, "no such file", "check the path (PLUGIN_SOURCE_TAR_PATH or the argument)");
    if (code === "EISDIR")
      throw archiveError(path, "is a folder, not a tarball", "give the path of the tar file");
    throw archiveError(
      path,
      `cannot be opened (${code ?? String(error)})`,
      "check the path and its permissions",
    );
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory())
      throw archiveError(path, "is a folder, not a tarball", "give the path of the tar file");
    if (!stat.isFile()) throw archiveError(path, "is not a regular file", "give the path of the tar file");
    const entries = await readEntries(path, handle, stat.size);
    return {
      path,
      fileSize: stat.size,
      entries,
      file(name) {
        let entry = entries.get(name);
        // Links may chain; a loop or a chain longer than any real archive has ends the walk.
        for (let hops = 0; entry && entry.type !== "file" && hops < 16; hops++) {
          if ((entry.type !== "symlink" && entry.type !== "hardlink") || entry.target === undefined)
            return undefined;
          entry = entries.get(entry.target);
        }
        return entry?.type === "file" ? entry : undefined;
      },
    };
  } finally {
    await handle.close();
  }
}

async function readEntries(
  path: string,
  handle: FileHandle,
  fileSize: number,
): Promise<Map<string, TarEntry>> {
  const reader = new HeaderReader(handle, fileSize);
  const entries = new Map<string, TarEntry>();
  const globalPax: Record<string, string> = {};
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let offset = 0;
  let sawHeader = false;

  const metaData = async (at: number, size: number, kind: string): Promise<Buffer> => {
    if (size > MAX_META_SIZE)
      throw archiveError(path, `a ${kind} header of ${size} bytes at offset ${at} is not plausible`);
    if (at + size > fileSize)
      throw archiveError(
        path,
        `truncated: the ${kind} header at offset ${at - BLOCK} runs past the end of the file`,
      );
    return Buffer.from(await reader.read(at, size));
  };

  for (;;) {
    if (offset + BLOCK > fileSize) {
      if (!sawHeader) throw archiveError(path, `is not a tar file (${fileSize} bytes, no tar header)`);
      // A tar ends with zero blocks; a file that stops where the next header should be was cut short.
      throw archiveError(
        path,
        `truncated: the file ends at byte ${fileSize} without the end-of-archive marker`,
      );
    }
    const block = await reader.read(offset, BLOCK);
    // End of archive (an empty tar is only that: it then lacks index.json/manifest.json, said later).
    if (isZeroBlock(block)) break;
    if (!checksumMatches(block)) {
      throw archiveError(
        path,
        sawHeader
          ? `corrupt tar header at offset ${offset} (bad checksum)`
          : "is not a tar file (no valid tar header at its start)",
      );
    }
    sawHeader = true;
    const typeflag = String.fromCharCode(block[156] ?? 0);
    let size = readNumber(block, 124, 12);
    if (Number.isNaN(size))
      throw archiveError(path, `corrupt tar header at offset ${offset} (bad size field)`);
    const dataOffset = offset + BLOCK;

    if (typeflag === "x" || typeflag === "g") {
      const records = parsePax(await metaData(dataOffset, size, "PAX"));
      if (typeflag === "g") Object.assign(globalPax, records);
      else pax = records;
      offset = dataOffset + padded(size);
      continue;
    }
    if (typeflag === "L" || typeflag === "K") {
      const text = readString(await metaData(dataOffset, size, "GNU long name"), 0, size);
      if (typeflag === "L") longName = text;
      else longLink = text;
      offset = dataOffset + padded(size);
      continue;
    }

    const records = { ...globalPax, ...pax };
    if (records.size !== undefined) {
      const paxSize = Number(records.size);
      if (!Number.isSafeInteger(paxSize) || paxSize < 0) {
        throw archiveError(path, `corrupt PAX size "${records.size}" at offset ${offset}`);
      }
      size = paxSize;
    }
    let rawName = records.path ?? longName;
    if (rawName === undefined) {
      rawName = readString(block, 0, 100);
      const magic = block.subarray(257, 263).toString("latin1");
      // POSIX ustar splits long names into prefix + name; GNU's "ustar " header uses that area for times.
      const prefix = magic === "ustar\0" ? readString(block, 345, 155) : "";
      if (prefix) rawName = `${prefix}/${rawName}`;
    }
    const rawLink = records.linkpath ?? longLink ?? readString(block, 157, 100);
    pax = {};
    longName = undefined;
    longLink = undefined;

    // Old tars mark folders only by a trailing `/` on a regular-file header.
    const oldStyleFolder = (typeflag === "0" || typeflag === "\0") && rawName.endsWith("/") && size === 0;
    const type: TarEntryType = oldStyleFolder
      ? "directory"
      : typeflag === "0" || typeflag === "\0" || typeflag === "7"
        ? "file"
        : typeflag === "5"
          ? "directory"
          : typeflag === "2"
            ? "symlink"
            : typeflag === "1"
              ? "hardlink"
              : "other";
    // Links, folders and devices have no data in the archive whatever their size field says.
    const dataSize = type === "file" || type === "other" ? size : 0;
    if (dataOffset + dataSize > fileSize) {
      throw archiveError(
        path,
        `truncated: entry "${rawName}" needs ${dataSize} bytes at offset ${dataOffset} but the file has ${fileSize}`,
      );
    }

    let name: string;
    let target: string | undefined;
    try {
      name = normalizeEntryName(rawName);
      if (type === "symlink") target = resolveLinkTarget(name, rawLink);
      // Hard-link targets are archive paths, as entry names are.
      if (type === "hardlink") target = normalizeEntryName(rawLink);
    } catch (error) {
      if (error instanceof UnsafeEntryName) {
        throw archiveError(
          path,
          error.message,
          "refusing to read it: rebuild the tarball with docker or buildx",
        );
      }
      throw error;
    }
    if (name !== "" && type !== "other") {
      const previous = entries.get(name);
      if (previous && previous.type !== "directory" && type !== "directory") {
        // Tar extractors let the last copy win; two different blobs under one name is not something a
        // registry push should pick between silently.
        throw archiveError(path, `entry "${name}" appears twice`);
      }
      entries.set(name, {
        name,
        type,
        offset: dataOffset,
        size: dataSize,
        ...(target !== undefined ? { target } : {}),
      });
    }
    offset = dataOffset + padded(dataSize);
  }
  return entries;
}
