/** A pushed tag that serves another image than the one the run pushed. */
export interface MovedTag {
  /** `registry/repository:tag`, as pushed. */
  reference: string;
  /** The digest it serves; null when the registry has no such tag any more. */
  serves: string | null;
}

/** The result of one run, as `--json` prints it and as the output files are written from it. */
export type ModeName = "build-and-push" | "build-only" | "push-only";

export interface StepResult {
  mode: ModeName;
  /** The repository the tags apply to, e.g. `127.0.0.1:5000/app`. */
  image?: string;
  /** Tags pushed (push modes) or given to the image (build-only). */
  tags: string[];
  /** The manifest or index digest the registry serves (or would serve) for every tag. */
  digest?: string;
  /** build-only with a tarball: where it was written. */
  tarPath?: string;
  /** push-only: bytes sent to the registry, and blobs the registry already had. */
  bytesUploaded?: number;
  blobsSkipped?: number;
  /** push through the engine: whether the published digest equals the tarball's. */
  digestPreserved?: boolean;
  /**
   * Build and push: tags that, checked after the push, serve another image than this build's `digest`
   * (another push to the same tag ran at once and wrote it later). Absent when every tag serves it.
   */
  movedTags?: MovedTag[];
  /** Registry the image went to, as given in the settings (for the artifact file). */
  registry?: string;
  /**
   * With PLUGIN_SIGN_KEY: the cosign signature image of the digest (`host/path:sha256-<hex>.sig`) and
   * its manifest digest; with PLUGIN_ATTEST_PREDICATE also the attestation image (`.att`).
   */
  signatureRef?: string;
  signatureDigest?: string;
  /** The signature's OCI 1.1 referrer manifest (`subject`: the image), where the registry lists referrers. */
  signatureReferrerDigest?: string;
  attestationRef?: string;
  attestationDigest?: string;
  /** Bake: each target's digest (null when buildx reported none), by target name. */
  targets?: Record<string, string | null>;
}
