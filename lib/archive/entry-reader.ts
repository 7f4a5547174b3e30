/**
 * Reads what an indexed archive holds: small JSON documents (bounded in size, checked against their
 * digest) and blobs as streams over their byte range of the tar file (or, in an OCI layout folder, of
 * their own file). Nothing is extracted.
 */
import fs, { constants, type Stats } from "node:fs";
import { open } from "node:fs/promises";
import { Readable } from "node:stream";
import type { ProtocolError } from "../protocol-error.js";
import { BLOB_DIGEST, digestOf } from "../reference/digest.js";
import { ambiguousArchive, archiveError } from "./errors.js";
import { FileRange } from "./file-range.js";
import { caseFoldedKeys } from "./json-keys.js";
import { type FileIdentity, READ_FLAGS, type TarEntry, type TarIndex } from "./tar-index.js";
import type { Descriptor } from "./types.js";

/**
 * index.json, manifest.json, manifests and configs are a few KiB; a multi-platform index with many
 * attestations stays far below this. More is a broken or hostile file, and it is not read into memory.
 */
export const MAX_JSON_SIZE = 4 * 1024 * 1024;

/** A blob is read 1 MiB at a time (see openEntry). */
const READ_SIZE = 1024 * 1024;

/** `blobs/<alg>/<encoded>`: where the OCI image layout keeps the blob with this digest (image-layout.md). */
function blobPath(digest: string): string {
  const [algorithm, encoded] = digest.split(":");
  return `blobs/${algorithm}/${encoded}`;
}

/** The digest of a `blobs/<alg>/<encoded>` path, or undefined for any other path. */
export function digestOfBlobPath(path: string): string | undefined {
  const match = /^blobs\/(sha256|sha512)\/([a-f0-9]+)$/.exec(path);
  if (!match) return undefined;
  const digest = `${match[1]}:${match[2]}`;
  return BLOB_DIGEST.test(digest) ? digest : undefined;
}

export class EntryReader {
  /** Blobs found elsewhere than `blobs/<alg>/<encoded>` (legacy `docker save` layers), by digest. */
  readonly #extraBlobs = new Map<string, TarEntry>();

  constructor(readonly tar: TarIndex) {}

  get path(): string {
    return this.tar.path;
  }

  /** Registers a blob stored under another name (`<id>/layer.tar`), so that it can be opened by digest. */
  addBlob(digest: string, entry: TarEntry): void {
    this.#extraBlobs.set(digest, entry);
  }

  /** The entry holding the blob with this digest, or undefined. */
  blobEntry(digest: string): TarEntry | undefined {
    return (
      this.#extraBlobs.get(digest) ?? (BLOB_DIGEST.test(digest) ? this.tar.file(blobPath(digest)) : undefined)
    );
  }

  /**
   * The entry for a descriptor found in `where`: refused when its digest is malformed, its blob is
   * missing, or the size it claims is not the blob's size (the archive is then corrupt or incomplete).
   */
  requireBlob(descriptor: Descriptor, where: string): TarEntry {
    this.checkDescriptor(descriptor, where);
    const entry = this.blobEntry(descriptor.digest);
    if (!entry) {
      throw archiveError(
        this.path,
        `${where} refers to ${descriptor.digest} but ${blobPath(descriptor.digest)} is not in the tarball`,
      );
    }
    if (entry.size !== descriptor.size) {
      throw archiveError(
        this.path,
        `${entry.name} has ${entry.size} bytes but ${where} says ${descriptor.size} for ${descriptor.digest}`,
      );
    }
    return entry;
  }

  /** Refuses a descriptor found in `where` whose digest or size is malformed. */
  checkDescriptor(descriptor: Descriptor, where: string): void {
    if (typeof descriptor?.digest !== "string" || !BLOB_DIGEST.test(descriptor.digest)) {
      throw archiveError(this.path, `${where} has a malformed digest ${JSON.stringify(descriptor?.digest)}`);
    }
    if (!Number.isSafeInteger(descriptor.size) || descriptor.size < 0) {
      throw archiveError(
        this.path,
        `${where} gives ${descriptor.digest} a malformed size ${JSON.stringify(descriptor.size)}`,
      );
    }
  }

  /** The bytes of a small entry (JSON), refused above {@link MAX_JSON_SIZE}. */
  async readSmall(entry: TarEntry, what: string): Promise<Buffer> {
    if (entry.size > MAX_JSON_SIZE) {
      throw archiveError(
        this.path,
        `${what} (${entry.name}) is ${entry.size} bytes, over the ${MAX_JSON_SIZE}-byte limit for JSON documents`,
      );
    }
    const buffer = Buffer.alloc(entry.size);
    const { path, flags, identity } = this.#source(entry);
    const handle = await open(path, flags).catch((error: unknown) => {
      throw this.#openProblem(entry, error);
    });
    try {
      const changed = this.#changed(entry, await handle.stat(), identity);
      if (changed) throw changed;
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await handle.read(
          buffer,
          filled,
          buffer.length - filled,
          entry.offset + filled,
        );
        if (bytesRead === 0) throw archiveError(this.path, `truncated while reading ${entry.name}`);
        filled += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return buffer;
  }

  /**
   * Parses JSON bytes; an object is required, and refused when Go's encoding/json would read another one
   * (see json-keys.ts). `keyDepth` limits how deep that is checked: an image config holds free-form
   * maps (labels) below the fields this reader uses, and those may differ only in case.
   */
  parseJson<T>(bytes: Buffer, what: string, keyDepth = Number.POSITIVE_INFINITY): T {
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString("utf8"));
    } catch (error) {
      throw archiveError(this.path, `${what} is not valid JSON (${(error as Error).message})`);
    }
    if (value === null || typeof value !== "object")
      throw archiveError(this.path, `${what} is not a JSON object`);
    const folded = caseFoldedKeys(value, keyDepth);
    if (folded) {
      throw ambiguousArchive(
        this.path,
        `${what} has the keys "${folded[0]}" and "${folded[1]}" in one object: Go's encoding/json (docker, containerd, skopeo, Trivy) reads them as one field and takes the last, this reader takes "${folded[0]}" as written`,
        "image",
      );
    }
    return value as T;
  }

  /** A named JSON document of the archive (index.json, manifest.json). */
  async readNamedJson<T>(name: string): Promise<{ bytes: Buffer; value: T } | undefined> {
    const entry = this.tar.file(name);
    if (!entry) return undefined;
    const bytes = await this.readSmall(entry, name);
    return { bytes, value: this.parseJson<T>(bytes, name) };
  }

  /** A JSON blob (manifest, index, config): present, of the claimed size, bounded, and matching its digest. */
  async readJsonBlob<T>(
    descriptor: Descriptor,
    where: string,
    keyDepth = Number.POSITIVE_INFINITY,
  ): Promise<{ bytes: Buffer; value: T }> {
    const entry = this.requireBlob(descriptor, where);
    const bytes = await this.readSmall(entry, `${descriptor.digest} (${descriptor.mediaType ?? "JSON"})`);
    const algorithm = descriptor.digest.split(":")[0] ?? "sha256";
    if (digestOf(bytes, algorithm) !== descriptor.digest) {
      throw archiveError(
        this.path,
        `${entry.name} does not match its digest ${descriptor.digest} (the blob is corrupt)`,
      );
    }
    return {
      bytes,
      value: this.parseJson<T>(bytes, `${entry.name} (${descriptor.mediaType ?? "JSON"})`, keyDepth),
    };
  }

  /** A blob's bytes as a stream over its byte range of the tar file. */
  openBlob(digest: string): Readable {
    const entry = this.blobEntry(digest);
    if (!entry) throw archiveError(this.path, `no blob ${digest} in the tarball`);
    return this.openEntry(entry);
  }

  openEntry(entry: TarEntry): Readable {
    if (entry.size === 0) return Readable.from([]);
    const { path, flags, identity } = this.#source(entry);
    // Reads of 1 MiB, not the default 64 KiB: a push of large layers spends a third less CPU (fewer
    // reads, fewer socket writes), and a few reads in flight stay far below the memory bound (nor do
    // larger or smaller ones do better: 256 KiB and 4 MiB both cost more CPU, measured).
    // The stream's open checks that the file is still the one indexed before it hands the stream its fd:
    // a file that is not gives no byte.
    const open = (callback: (error: Error | null, fd?: number) => void) => {
      fs.open(path, flags, (error, fd) => {
        if (error) {
          callback(this.#openProblem(entry, error) as NodeJS.ErrnoException);
          return;
        }
        fs.fstat(fd, (statError, stats) => {
          const problem = statError ?? this.#changed(entry, stats, identity);
          if (!problem) callback(null, fd);
          else fs.close(fd, () => callback(problem));
        });
      });
    };
    return new FileRange(open, entry.offset, entry.offset + entry.size, READ_SIZE);
  }

  /**
   * Where an entry's bytes are, and how to open them: the layout folder's own file (never through a
   * link: none was there when it was indexed) or the tar file, and the file that was indexed there.
   */
  #source(entry: TarEntry): { path: string; flags: number; identity: FileIdentity | undefined } {
    if (entry.file)
      return { path: entry.file, flags: READ_FLAGS | constants.O_NOFOLLOW, identity: entry.identity };
    return { path: this.tar.dataPath, flags: READ_FLAGS, identity: this.tar.dataIdentity };
  }

  /**
   * Refuses a file that is no longer the one indexed: a layout folder, or the tarball's path, can change
   * while a push reads it (another step of the stage writing to the workspace), and a FIFO put there
   * would hang the push, a link or another file would send other bytes than the ones indexed.
   */
  #changed(entry: TarEntry, stats: Stats, identity: FileIdentity | undefined): ProtocolError | undefined {
    if (stats.isFile() && (!identity || (stats.dev === identity.dev && stats.ino === identity.ino)))
      return undefined;
    return this.#changedError(
      entry,
      stats.isFile() ? "another file" : stats.isFIFO() ? "a FIFO" : "not a regular file",
    );
  }

  /** An open that failed: a link where the indexed file was is a change too; anything else is as it is. */
  #openProblem(entry: TarEntry, error: unknown): unknown {
    return (error as NodeJS.ErrnoException).code === "ELOOP"
      ? this.#changedError(entry, "a symbolic link")
      : error;
  }

  #changedError(entry: TarEntry, what: string): ProtocolError {
    return archiveError(
      this.path,
      `${entry.file ? entry.name : "the tarball"} changed while it was read: it is now ${what}, not the file that was indexed; nothing more is read from it`,
      "leave the image alone until the push is done (no other step may write to it meanwhile), then push it again",
    );
  }
}
