/**
 * Operations on one repository of a registry, as the OCI distribution spec defines them
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md): blob exists (HEAD), cross-
 * repository mount, upload (monolithic POST + PUT, or chunked POST + PATCH… + PUT for large blobs),
 * upload status, manifest PUT. Every step is idempotent, so each is retried with the registry's policy.
 * A small blob whose upload breaks is sent again in a new session; a large one goes on where the
 * registry got to (chunked-upload.ts). Large blobs can be staged (every byte sent and verified, the
 * session left open) and committed later, see push.ts.
 */
import type { Readable } from "node:stream";
import { ProtocolError } from "../protocol-error.js";
import { digestOf } from "../reference/digest.js";
import { MANIFEST_MEDIA_TYPES, OCI_INDEX } from "../reference/media-types.js";
import { type StageOptions, stageChunked } from "./chunked-upload.js";
import { headerValue, type RegistryClient, type RegistryRequest, type RegistryResponse } from "./client.js";
import { isLostUploadSession, RegistryHttpError } from "./errors.js";
import type { RetryBudget } from "./retry.js";
import { uploadedBytes } from "./upload-range.js";
import { type DigestVerifier, openVerified } from "./verify.js";

export interface BlobRef {
  digest: string;
  size: number;
}

/** An upload session holding every byte of a verified blob, not yet completed. */
export interface StagedUpload {
  location: string;
}

/** Where an upload session stands: the Location for its next request, and the bytes the registry holds. */
export interface UploadPosition {
  location: string;
  offset: number;
}

/** At most this many other repositories are asked to lend a blob (each ask opens an upload session). */
const MAX_MOUNT_SOURCES = 3;

function withDigest(location: string, base: URL, digest: string): string {
  const url = new URL(location, base);
  url.searchParams.set("digest", digest);
  return url.toString();
}

export interface UploadOptions {
  /** Bytes of this blob sent so far in the current attempt (0 when an attempt starts). */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  /**
   * An upload session opened beforehand ({@link RepositoryClient.startUpload}) for the first attempt of a
   * small blob; a retry opens a new one. Saves the POST's round trip when the caller opened it while
   * doing something else (push.ts opens it while it verifies the blob).
   */
  opened?: string;
}

export class RepositoryClient {
  /** The repository path in the registry, e.g. `team/app`. */
  readonly path: string;
  readonly #client: RegistryClient;
  readonly #scopes: string[];
  readonly #mountFrom: string[];

  /** `mountFrom`: other repositories of the same registry that may hold the blobs (pull access is asked). */
  constructor(client: RegistryClient, path: string, mountFrom: string[] = []) {
    this.#client = client;
    this.path = path;
    this.#mountFrom = mountFrom.filter((name) => name !== path).slice(0, MAX_MOUNT_SOURCES);
    this.#scopes = [
      `repository:${path}:pull,push`,
      ...this.#mountFrom.map((name) => `repository:${name}:pull`),
    ];
  }

  /** Other repositories of this registry that may lend blobs (cross-repository mount). */
  get mountSources(): readonly string[] {
    return this.#mountFrom;
  }

  /** Blobs above this size are staged in chunks; smaller ones go in one PUT. */
  get chunkThreshold(): number {
    return this.#client.chunkThreshold;
  }

  /** The most bytes one PATCH of a chunked upload carries. */
  get chunkSize(): number {
    return this.#client.chunkSize;
  }

  /** The retries of a step repeated by hand, in the registry's policy. */
  retryBudget(operation: string, signal?: AbortSignal): RetryBudget {
    return this.#client.retryBudget(operation, signal);
  }

  /** `host/path`, for messages. */
  get name(): string {
    return `${this.#client.host}/${this.path}`;
  }

  /** One request that can be sent again as it is, retried as a whole within the client's budget. */
  #retried(request: Omit<RegistryRequest, "scopes">): Promise<RegistryResponse & { text: string }> {
    return this.#client.retry(
      request.operation,
      () => this.#client.send({ ...request, scopes: this.#scopes }),
      request.signal,
    );
  }

  async blobExists(digest: string, signal?: AbortSignal): Promise<boolean> {
    const operation = `check of blob ${digest} in ${this.name}`;
    const response = await this.#retried({
      operation,
      method: "HEAD",
      url: `/v2/${this.path}/blobs/${digest}`,
      expect: [200, 404],
      signal,
    });
    return response.status === 200;
  }

  /**
   * Asks the registry to link a blob that repository `from` holds (a cross-repository mount).
   * Returns false when it did not (the registry then opened an upload session, which is cancelled).
   */
  async mountBlob(blob: BlobRef, from: string, signal?: AbortSignal): Promise<boolean> {
    const operation = `mount of blob ${blob.digest} from ${from} into ${this.name}`;
    const params = new URLSearchParams({ mount: blob.digest, from });
    const response = await this.#retried({
      operation,
      method: "POST",
      url: `/v2/${this.path}/blobs/uploads/?${params}`,
      headers: { "content-length": "0" },
      expect: [201, 202],
      signal,
    });
    if (response.status === 201) return true;
    const location = headerValue(response.headers, "location");
    if (location) await this.cancelUpload(new URL(location, response.url).toString());
    return false;
  }

  /** Whether `from` (another repository of this registry, in `mountFrom`) holds the blob. */
  async blobExistsIn(from: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const operation = `check of blob ${digest} in ${this.#client.host}/${from}`;
    const response = await this.#retried({
      operation,
      method: "HEAD",
      url: `/v2/${from}/blobs/${digest}`,
      expect: [200, 404],
      signal,
    });
    return response.status === 200;
  }

  /**
   * Uploads a blob at once: monolithic (POST, then PUT with the bytes) up to the chunk threshold, else
   * chunked and committed. Verified against its digest while it streams; `open()` is called again for
   * each attempt.
   */
  async uploadBlob(blob: BlobRef, open: () => Readable, options: UploadOptions = {}): Promise<void> {
    if (blob.size > this.#client.chunkThreshold) {
      // A session opened for a monolithic upload is not used for a chunked one.
      if (options.opened) await this.cancelUpload(options.opened);
      const staged = await this.stageBlob(blob, open, options);
      if (staged) await this.commitBlob(blob, staged, options.signal);
      return;
    }
    const operation = `upload of blob ${blob.digest} to ${this.name}`;
    const put = (location: string) =>
      this.#withVerifiedBody(
        () => location,
        blob,
        open,
        options,
        async (body) => {
          await this.#client.send({
            operation,
            method: "PUT",
            url: withDigest(location, this.#client.base, blob.digest),
            scopes: this.#scopes,
            headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
            body,
            expect: [201],
            signal: options.signal,
          });
        },
      );
    let opened = options.opened;
    await this.#client.retry(
      operation,
      async () => {
        options.onProgress?.(0);
        const given = opened;
        opened = undefined;
        if (given) {
          try {
            return await put(given);
          } catch (error) {
            // A session opened a while ago may have expired (registries purge idle ones): a new one.
            if (!isLostUploadSession(error)) throw error;
            options.onProgress?.(0);
          }
        }
        await put(await this.startUpload(operation, options.signal));
      },
      options.signal,
    );
  }

  /**
   * Sends every byte of a blob in an upload session (PATCH with Content-Range, chunk by chunk) without
   * completing it: the blob is verified, but not yet in the repository, and nothing of it shows until
   * {@link commitBlob}. A push stages every large blob before it commits any, so a corrupted blob found
   * late leaves the registry as it was. A broken request is resumed where the registry got to
   * (chunked-upload.ts). Undefined when `abandonIf` said the upload is no longer needed.
   */
  stageBlob(
    blob: BlobRef,
    open: () => Readable,
    options: StageOptions = {},
  ): Promise<StagedUpload | undefined> {
    return stageChunked(this, blob, open, options);
  }

  /** Sends one chunk at `position.offset` (PATCH with Content-Range); returns the Location for the next request. */
  async sendChunk(
    position: UploadPosition,
    length: number,
    body: AsyncIterable<Buffer>,
    operation: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const response = await this.#client.send({
      operation,
      method: "PATCH",
      url: position.location,
      scopes: this.#scopes,
      headers: {
        "content-type": "application/octet-stream",
        "content-length": String(length),
        "content-range": `${position.offset}-${position.offset + length - 1}`,
      },
      body,
      expect: [202],
      signal,
    });
    // The next chunk goes where this answer says, resolved against where the answer came from.
    const next = headerValue(response.headers, "location");
    return next ? new URL(next, response.url).toString() : position.location;
  }

  /**
   * How far an upload session got (distribution spec: GET on its Location answers 204 with `Range`).
   * Undefined when the registry lost the session or gives no offset to go on from: then the upload starts
   * again in a new one.
   */
  async uploadPosition(
    location: string,
    operation: string,
    signal?: AbortSignal,
  ): Promise<UploadPosition | undefined> {
    let response: RegistryResponse;
    try {
      response = await this.#client.send({
        operation: `${operation}: status of its session`,
        method: "GET",
        url: location,
        scopes: this.#scopes,
        expect: [204, 200],
        signal,
      });
    } catch (error) {
      if (isLostUploadSession(error)) return undefined;
      throw error;
    }
    const offset = uploadedBytes(headerValue(response.headers, "range"));
    if (offset === undefined) return undefined;
    const next = headerValue(response.headers, "location");
    return { location: next ? new URL(next, response.url).toString() : location, offset };
  }

  /** Completes a staged upload: the blob is then in the repository under its digest. */
  async commitBlob(blob: BlobRef, staged: StagedUpload, signal?: AbortSignal): Promise<void> {
    const operation = `upload of blob ${blob.digest} to ${this.name}`;
    try {
      await this.#retried({
        operation,
        method: "PUT",
        url: withDigest(staged.location, this.#client.base, blob.digest),
        headers: { "content-length": "0" },
        expect: [201],
        signal,
      });
    } catch (error) {
      // A commit whose answer was lost and was then repeated finds its session gone: the blob is in.
      if (
        error instanceof RegistryHttpError &&
        error.status === 404 &&
        (await this.blobExists(blob.digest, signal))
      ) {
        return;
      }
      throw error;
    }
  }

  /** Cancels an upload session (a push that failed or was stopped); the registry would purge it later anyway. */
  async cancelUpload(location: string): Promise<void> {
    try {
      await this.#client.send({
        operation: `cancel of an upload to ${this.name}`,
        method: "DELETE",
        url: location,
        scopes: this.#scopes,
        expect: [200, 202, 204, 404],
        cleanup: true,
      });
    } catch {
      // Best effort: an abandoned session holds no tag and expires.
    }
  }

  /** Opens an upload session; returns its Location, absolute. */
  async startUpload(operation: string, signal?: AbortSignal): Promise<string> {
    const response = await this.#client.send({
      operation,
      method: "POST",
      url: `/v2/${this.path}/blobs/uploads/`,
      scopes: this.#scopes,
      headers: { "content-length": "0" },
      expect: [202],
      signal,
    });
    const location = headerValue(response.headers, "location");
    if (!location)
      throw new ProtocolError(
        "bad-response",
        `${operation}: the registry started an upload without a Location`,
      );
    // Absolute from here on: a relative Location means the origin that answered, which later requests
    // to another origin's Location must not change.
    return new URL(location, response.url).toString();
  }

  /**
   * Runs `send` with the blob's bytes passing through a {@link DigestVerifier}; the first error of the
   * bytes (unreadable source, a mismatch) is what is thrown, whatever error the request ends with. On
   * failure the session is cancelled.
   */
  async #withVerifiedBody(
    /** The session's current Location (a chunked upload moves it with each chunk). */
    location: () => string,
    blob: BlobRef,
    open: () => Readable,
    options: UploadOptions,
    send: (body: DigestVerifier) => Promise<void>,
  ): Promise<void> {
    const verified = openVerified(open, blob, { onProgress: options.onProgress });
    try {
      await send(verified.body);
    } catch (error) {
      await this.cancelUpload(location());
      throw verified.error() ?? error;
    } finally {
      verified.close();
    }
  }

  /** Writes a manifest under a tag or its digest; returns the digest the registry stored it at. */
  async putManifest(
    reference: string,
    mediaType: string,
    bytes: Buffer,
    signal?: AbortSignal,
  ): Promise<string> {
    const digest = digestOf(bytes);
    const operation = `write of manifest ${digest} as ${this.name}${reference.includes(":") ? "@" : ":"}${reference}`;
    const response = await this.#retried({
      operation,
      method: "PUT",
      url: `/v2/${this.path}/manifests/${reference}`,
      headers: { "content-type": mediaType },
      body: bytes,
      expect: [201],
      signal,
    });
    const stored = headerValue(response.headers, "docker-content-digest");
    if (stored && stored !== digest) {
      throw new ProtocolError(
        "bad-response",
        `${operation}: the registry stored it as ${stored}, not at the digest of its bytes`,
      );
    }
    return digest;
  }

  /** The digest the registry serves for a tag or digest, or undefined when it has none. */
  async manifestDigest(reference: string, signal?: AbortSignal): Promise<string | undefined> {
    const operation = `check of ${this.name}:${reference}`;
    const response = await this.#retried({
      operation,
      method: "HEAD",
      url: `/v2/${this.path}/manifests/${reference}`,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(", ") },
      expect: [200, 404],
      signal,
    });
    return response.status === 200 ? headerValue(response.headers, "docker-content-digest") : undefined;
  }

  /**
   * A manifest as the registry serves it for a tag or digest (read up to the manifest limit), or
   * undefined when there is none. Used for small manifests this tool writes itself (cosign's `.sig`).
   */
  async readManifest(
    reference: string,
    signal?: AbortSignal,
  ): Promise<{ text: string; digest: string; mediaType?: string } | undefined> {
    const operation = `read of ${this.name}:${reference}`;
    const response = await this.#retried({
      operation,
      method: "GET",
      url: `/v2/${this.path}/manifests/${reference}`,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(", ") },
      expect: [200, 404],
      bodyKind: "manifest",
      signal,
    });
    if (response.status === 404) return undefined;
    const digest =
      headerValue(response.headers, "docker-content-digest") ?? digestOf(Buffer.from(response.text, "utf8"));
    return { text: response.text, digest, mediaType: headerValue(response.headers, "content-type") };
  }

  /**
   * A small blob's bytes (a signature or attestation layer, up to its limit), or undefined when the
   * registry does not have it or serves other bytes than its digest's.
   */
  async readSmallBlob(digest: string, signal?: AbortSignal): Promise<Buffer | undefined> {
    const operation = `read of blob ${digest} in ${this.name}`;
    const response = await this.#retried({
      operation,
      method: "GET",
      url: `/v2/${this.path}/blobs/${digest}`,
      expect: [200, 404],
      bodyKind: "attachment",
      signal,
    });
    if (response.status === 404) return undefined;
    const bytes = Buffer.from(response.text, "utf8");
    return digestOf(bytes) === digest ? bytes : undefined;
  }

  /**
   * The manifests that refer to `digest` (OCI distribution 1.1, "Listing Referrers"), filtered by
   * `artifactType` where the registry filters; undefined when the registry has no referrers API (404, or
   * an answer that is not an image index: a registry before OCI 1.1).
   */
  async readReferrers(
    digest: string,
    artifactType: string,
    signal?: AbortSignal,
  ): Promise<{ digest: string; artifactType?: string }[] | undefined> {
    const operation = `list of the referrers of ${this.name}@${digest}`;
    const response = await this.#retried({
      operation,
      method: "GET",
      url: `/v2/${this.path}/referrers/${digest}?${new URLSearchParams({ artifactType })}`,
      headers: { accept: OCI_INDEX },
      expect: [200, 404],
      bodyKind: "manifest",
      signal,
    });
    if (response.status !== 200) return undefined;
    try {
      const index = JSON.parse(response.text) as { mediaType?: unknown; manifests?: unknown };
      if (index.mediaType !== OCI_INDEX || !Array.isArray(index.manifests)) return undefined;
      return (index.manifests as { digest?: unknown; artifactType?: unknown }[])
        .filter((m): m is { digest: string; artifactType?: string } => typeof m?.digest === "string")
        .map((m) => ({
          digest: m.digest,
          ...(typeof m.artifactType === "string" ? { artifactType: m.artifactType } : {}),
        }));
    } catch {
      return undefined;
    }
  }
}
