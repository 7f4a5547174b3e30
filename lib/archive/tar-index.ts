/**
 * One pass over the headers of a tar file: every entry's name, data offset and size, without reading any
 * entry's data (it is skipped by offset, so a 1 GiB layer costs one header read, not a GiB of I/O).
 * Blobs are then read later as byte ranges of the file.
 *
 * Formats read: POSIX ustar (name + prefix), GNU (`././@LongLink` entries `L`/`K` for long names and link
 * names, base-256 sizes), and PAX extended headers (`x`) with `path`, `linkpath` and `size`.
 * Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html and GNU tar's format notes:
 * https://www.gnu.org/software/tar/manual/html_node/Standard.html
 *
 * Every tarball is treated as written by an attacker who wants a scanner to see one image and the push
 * another. The readers that matter are Go's archive/tar (docker load, containerd, skopeo, Trivy through
 * go-containerregistry; src/archive/tar/reader.go) and GNU tar; where they, or the first-match and
 * last-match name lookups of image tools, would see different files, the tarball is refused as
 * ambiguous rather than read one way. Sparse files, global headers that rename or resize, names given
 * twice, data on entries that have none: see the checks below and in tar-header.ts, pax-records.ts and
 * tar-names.ts.
 */
import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";
import { ProtocolError } from "../protocol-error.js";
import { normalizeEntryName, resolveLinkTarget, UnsafeEntryName } from "./entry-name.js";
import { ambiguousArchive, archiveError, NOT_AN_IMAGE_ADVICE } from "./errors.js";
import { describeFileKind } from "./file-kind.js";
import { checkPaxRecords, parsePaxRecords } from "./pax-records.js";
import {
  BLOCK,
  checksumMatches,
  type HeaderBlock,
  isZeroBlock,
  parseHeaderBlock,
  readString,
} from "./tar-header.js";
import { EntryNames } from "./tar-names.js";
import { ambiguous, corrupt } from "./tar-problem.js";

/** Headers are read in chunks of this size, so that runs of small entries cost one read, not one each. */
const CHUNK = 64 * 1024;
/** What follows the end-of-archive marker is read in pieces of this size (it is zeros, or refused). */
const TRAILER_CHUNK = 1024 * 1024;
/** Long names and PAX records are a few hundred bytes; more is not an image tarball. */
const MAX_META_SIZE = 1024 * 1024;

export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntry {
  /** Normalised name (no `./`, no trailing `/`). */
  name: string;
  type: TarEntryType;
  /** Where the entry's data starts in the tar file. */
  offset: number;
  /** Bytes of data (0 for everything but regular files). */
  size: number;
  /** For links: the archive path linked to (already resolved against the link's folder). */
  target?: string;
  /**
   * The file that holds the entry's data, from `offset`, when it is not the archive's own file: each
   * blob of an OCI layout folder is a file of its own.
   */
  file?: string;
  /** That file as it was indexed: it is read only while it is still the same file (entry-reader.ts). */
  identity?: FileIdentity;
}

/** A file as the file system knows it: the same device and inode is the same file, whatever its path. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * How the files of an archive are opened to be read: a FIFO put at the path since it was indexed opens
 * at once instead of waiting for a writer (and is then refused as not the file that was indexed).
 */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK;

/** The entries of an image archive, a tar file's or an OCI layout folder's, by name. */
export interface TarIndex {
  /** How the archive is named in messages: the path the user gave, or "standard input". */
  path: string;
  /** The file whose byte ranges entries without a `file` of their own are read from. */
  dataPath: string;
  /** That file as it was indexed (a folder has none: its entries have their own). */
  dataIdentity?: FileIdentity;
  /** The tar file's size in bytes (for a folder: the sum of its entries' sizes). */
  fileSize: number;
  /** Entries by normalised name (regular files, folders, links, devices). */
  entries: Map<string, TarEntry>;
  /** Follows links: the regular-file entry `name` stands for, or undefined when there is none. */
  file(name: string): TarEntry | undefined;
}

/**
 * The type flags an image tarball can hold. `7` (contiguous file) is a regular file to every reader.
 * Any other flag (GNU dumpdirs, volume labels, multi-volume parts, vendor types) is refused: readers
 * differ on whether it has data and on what it is.
 */
const TYPES: Record<string, TarEntryType> = {
  "0": "file",
  "\0": "file",
  "7": "file",
  "1": "hardlink",
  "2": "symlink",
  "3": "other",
  "4": "other",
  "5": "directory",
  "6": "other",
};

const LABELS: Record<TarEntryType, string> = {
  file: "regular file",
  directory: "folder",
  symlink: "symbolic link",
  hardlink: "hard link",
  other: "device or FIFO",
};

/** The problem of a file that is not a tar at all, naming what it is when its first bytes tell. */
function notATar(head: Buffer, why: string): ProtocolError {
  const kind = describeFileKind(Buffer.from(head));
  return new ProtocolError("not-an-archive", `is not a tar file (${kind ? `it is ${kind}; ` : ""}${why})`);
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
 * Indexes the tar file at `file`, named `path` in messages (a temporary copy of a compressed or piped
 * tarball is named as the user gave it). Refused, naming the file: not a tar (a header whose
 * checksum is wrong), truncated (an entry's data runs past the end of the file, or the file ends where
 * a header should be), an entry whose name leaves the archive, or an ambiguous tar (see the file's
 * comment).
 */
export async function indexTar(file: string, path: string = file): Promise<TarIndex> {
  let handle: FileHandle;
  try {
    handle = await open(file, READ_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw archiveError(path, "no such file", "check the path", "no-such-file");
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
    const entries = await readEntries(handle, stat.size).catch((error: unknown) => {
      throw inTarball(path, error);
    });
    return {
      path,
      dataPath: file,
      dataIdentity: { dev: stat.dev, ino: stat.ino },
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

/** A problem the tar reader found, as the failure that names the tarball. */
function inTarball(path: string, error: unknown): unknown {
  if (error instanceof UnsafeEntryName)
    return archiveError(
      path,
      error.message,
      "refusing to read it: rebuild the tarball with docker or buildx",
    );
  if (!(error instanceof ProtocolError)) return error;
  if (error.kind === "ambiguous-archive") return ambiguousArchive(path, error.message);
  // Not a damaged copy of an image tarball, so "copy it again" would not help.
  if (error.kind === "not-an-archive")
    return archiveError(path, error.message, NOT_AN_IMAGE_ADVICE, error.kind);
  return archiveError(path, error.message);
}

/** Headers read but not yet applied: they describe the next entry. */
interface Pending {
  pax?: { records: Map<string, string>; offset: number };
  longName?: { value: string; offset: number };
  longLink?: { value: string; offset: number };
}

/** The offset of the first pending header, and what it is, for messages. */
function firstPending(pending: Pending): { what: string; offset: number } | undefined {
  const found = [
    pending.pax && { what: "PAX extended header", offset: pending.pax.offset },
    pending.longName && { what: "GNU long name", offset: pending.longName.offset },
    pending.longLink && { what: "GNU long link name", offset: pending.longLink.offset },
  ].filter((x): x is { what: string; offset: number } => Boolean(x));
  return found.sort((a, b) => a.offset - b.offset)[0];
}

/** An entry as every reader in use agrees to see it, before its name is normalised. */
interface EntryHeader {
  rawName: string;
  rawLink: string;
  type: TarEntryType;
  size: number;
}

/**
 * Applies the pending PAX records and GNU long names to a header, refusing where readers apply them
 * differently: a PAX path and a GNU long name that disagree (Go's archive/tar takes the long name, GNU
 * tar the PAX path), a PAX size that contradicts a non-zero size field, an unknown type flag, a trailing
 * slash on anything but a folder, and data on anything but a regular file.
 */
function entryHeader(header: HeaderBlock, pending: Pending, offset: number): EntryHeader {
  const pax = pending.pax?.records;
  const paxPath = pax?.get("path");
  const longName = pending.longName?.value;
  if (paxPath !== undefined && longName !== undefined && paxPath !== longName) {
    throw ambiguous(
      `the entry at offset ${offset} is named "${paxPath}" by a PAX path and "${longName}" by a GNU long name: Go's archive/tar (docker, containerd, skopeo) takes the long name, GNU tar the PAX path`,
    );
  }
  const paxLink = pax?.get("linkpath");
  const longLink = pending.longLink?.value;
  if (paxLink !== undefined && longLink !== undefined && paxLink !== longLink) {
    throw ambiguous(
      `the entry at offset ${offset} links to "${paxLink}" by a PAX linkpath and to "${longLink}" by a GNU long link name: Go's archive/tar takes the long link name, GNU tar the PAX linkpath`,
    );
  }
  const rawName = paxPath ?? longName ?? header.name;
  const rawLink = paxLink ?? longLink ?? header.linkname;

  let size = header.size;
  const paxSize = pax?.get("size");
  if (paxSize !== undefined) {
    // Writers put a size in PAX only when the field cannot hold it, and then leave the field 0 (Go, GNU tar).
    const value = Number(paxSize);
    if (header.size !== 0 && header.size !== value) {
      throw ambiguous(
        `entry "${rawName}" at offset ${offset} has ${header.size} bytes by its header and ${value} by its PAX size: readers that honour the PAX record and readers that do not find its data, and every entry after it, in different places`,
      );
    }
    size = value;
  }

  if (header.typeflag === "S") {
    throw ambiguous(
      `entry "${rawName}" at offset ${offset} is a GNU sparse file (type S): its data is not its bytes, readers expand it differently, and image tarballs never hold sparse files`,
    );
  }
  let type = TYPES[header.typeflag];
  if (type === undefined) {
    throw ambiguous(
      `entry "${rawName}" at offset ${offset} has the type flag ${JSON.stringify(header.typeflag)}, which image tarballs never hold: readers differ on whether it has data and on what it is`,
    );
  }
  if (rawName.endsWith("/") && type !== "directory") {
    if (header.typeflag !== "\0") {
      throw ambiguous(
        `entry "${rawName}" at offset ${offset} ends with "/" but is a ${LABELS[type]}: Go's archive/tar keeps it a ${LABELS[type]} whose name ends with "/", GNU tar makes it a folder, and lookups that clean paths find it as "${rawName.replace(/\/+$/, "")}"`,
      );
    }
    // The pre-POSIX way of writing a folder; Go's archive/tar and GNU tar both read it as one.
    type = "directory";
  }
  if (type !== "file" && size !== 0) {
    throw ambiguous(
      `entry "${rawName}" at offset ${offset} is a ${LABELS[type]} whose header claims ${size} bytes of data: Go's archive/tar (docker, containerd, skopeo) gives it no data and reads those bytes as further entries, GNU tar skips them for links and devices`,
    );
  }
  return { rawName, rawLink, type, size };
}

/** The offset of the first byte that is not zero from `start` to the end of the file, or undefined. */
async function firstNonZeroByte(
  reader: HeaderReader,
  start: number,
  fileSize: number,
): Promise<number | undefined> {
  for (let at = start; at < fileSize; at += TRAILER_CHUNK) {
    const bytes = await reader.read(at, Math.min(TRAILER_CHUNK, fileSize - at));
    const index = bytes.findIndex((byte) => byte !== 0);
    if (index >= 0) return at + index;
    if (bytes.length === 0) return undefined;
  }
  return undefined;
}

async function readEntries(handle: FileHandle, fileSize: number): Promise<Map<string, TarEntry>> {
  const reader = new HeaderReader(handle, fileSize);
  const entries = new Map<string, TarEntry>();
  const names = new EntryNames();
  let pending: Pending = {};
  let offset = 0;
  let sawHeader = false;

  const metaData = async (at: number, size: number, kind: string): Promise<Buffer> => {
    if (size > MAX_META_SIZE)
      throw corrupt(`a ${kind} header of ${size} bytes at offset ${at - BLOCK} is not plausible`);
    if (at + size > fileSize)
      throw corrupt(`truncated: the ${kind} header at offset ${at - BLOCK} runs past the end of the file`);
    return Buffer.from(await reader.read(at, size));
  };

  for (;;) {
    if (offset + BLOCK > fileSize) {
      if (!sawHeader) throw notATar(await reader.read(0, BLOCK), `${fileSize} bytes, no tar header`);
      // A tar ends with zero blocks; a file that stops where the next header should be was cut short.
      throw corrupt(`truncated: the file ends at byte ${fileSize} without the end-of-archive marker`);
    }
    const block = await reader.read(offset, BLOCK);
    // End of archive (an empty tar is only that: it then lacks index.json/manifest.json, said later).
    if (isZeroBlock(block)) {
      const unapplied = firstPending(pending);
      if (unapplied) {
        throw corrupt(
          `the ${unapplied.what} at offset ${unapplied.offset} describes no entry: the archive ends after it`,
        );
      }
      // Two zero blocks end a tar. After a single one GNU tar stops reading, Go's archive/tar refuses
      // the file and `tar --ignore-zeros` reads on: whatever follows would be seen by some readers only.
      const next = offset + BLOCK;
      if (next + BLOCK <= fileSize && !isZeroBlock(await reader.read(next, BLOCK))) {
        throw ambiguous(
          `a single zero block at offset ${offset} is followed by more data, not by a second zero block: GNU tar stops reading there, Go's archive/tar refuses the file, and tar --ignore-zeros reads on`,
        );
      }
      // Only padding may follow the end-of-archive marker (GNU tar fills its last record with zeros).
      // More data is a second tar to `tar --ignore-zeros`, which reads it as entries of this one: `cat a.tar
      // b.tar`, or two gzip members, or zstd frames, one after the other, which every decoder joins.
      const trailing = await firstNonZeroByte(reader, next + BLOCK, fileSize);
      if (trailing !== undefined) {
        throw ambiguous(
          `the file goes on with data at offset ${trailing} after its end-of-archive marker (the two zero blocks at offset ${offset}): Go's archive/tar and GNU tar stop at the marker, tar --ignore-zeros reads what follows as more entries (two tarballs, or two compressed streams, put one after the other)`,
        );
      }
      break;
    }
    if (!checksumMatches(block)) {
      if (!sawHeader) throw notATar(block, "no valid tar header at its start");
      throw corrupt(`corrupt tar header at offset ${offset} (bad checksum)`);
    }
    sawHeader = true;
    const header = parseHeaderBlock(block, offset);
    const dataOffset = offset + BLOCK;

    if (header.typeflag === "x" || header.typeflag === "g") {
      const records = parsePaxRecords(await metaData(dataOffset, header.size, "PAX"), offset);
      checkPaxRecords(records, header.typeflag, offset);
      const unapplied = firstPending(pending);
      if (header.typeflag === "g" && unapplied) {
        throw ambiguous(
          `the PAX global header at offset ${offset} comes between the ${unapplied.what} at offset ${unapplied.offset} and the entry it describes: Go's archive/tar forgets what came before it, GNU tar keeps it`,
        );
      }
      if (header.typeflag === "x") {
        if (pending.pax) {
          throw ambiguous(
            `two PAX extended headers (offsets ${pending.pax.offset} and ${offset}) describe one entry: Go's archive/tar and GNU tar keep only the second, readers that merge them see other names or sizes`,
          );
        }
        pending.pax = { records, offset };
      }
      // A global header that passed the checks holds nothing that changes which file an entry is
      // (comments, times, owners): there is nothing to apply.
      offset = dataOffset + padded(header.size);
      continue;
    }
    if (header.typeflag === "L" || header.typeflag === "K") {
      const value = readString(await metaData(dataOffset, header.size, "GNU long name"), 0, header.size);
      const key = header.typeflag === "L" ? "longName" : "longLink";
      if (pending[key]) {
        throw ambiguous(
          `two GNU long ${header.typeflag === "L" ? "names" : "link names"} (offsets ${pending[key].offset} and ${offset}) describe one entry`,
        );
      }
      pending[key] = { value, offset };
      offset = dataOffset + padded(header.size);
      continue;
    }

    const { rawName, rawLink, type, size } = entryHeader(header, pending, offset);
    pending = {};
    if (dataOffset + size > fileSize) {
      throw corrupt(
        `truncated: entry "${rawName}" needs ${size} bytes at offset ${dataOffset} but the file has ${fileSize}`,
      );
    }
    const name = normalizeEntryName(rawName);
    let target: string | undefined;
    if (type === "symlink" || type === "hardlink") {
      if (rawLink === "") throw corrupt(`the ${LABELS[type]} "${rawName}" at offset ${offset} has no target`);
      // Symbolic links resolve from the link's folder.
      target = resolveLinkTarget(name, rawLink);
      if (type === "hardlink") {
        // Tar resolves hard links from the archive's root; go-containerregistry (Trivy) resolves them
        // like symbolic links, from the link's folder. Only where both give the same file is it one file.
        const fromRoot = normalizeEntryName(rawLink);
        if (fromRoot !== target) {
          throw ambiguous(
            `the hard link "${name}" -> "${rawLink}" is "${fromRoot}" to tar (from the archive's root) and "${target}" to go-containerregistry (from the link's folder)`,
          );
        }
      }
    }
    names.claim(name, type);
    if (name !== "") {
      entries.set(name, {
        name,
        type,
        offset: dataOffset,
        size,
        ...(target !== undefined ? { target } : {}),
      });
    }
    offset = dataOffset + padded(size);
  }
  return entries;
}
