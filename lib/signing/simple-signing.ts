/**
 * What a cosign signature signs: the "simple signing" payload of containers/image
 * (https://github.com/containers/image/blob/main/docs/containers-signature.5.md), as sigstore/sigstore's
 * pkg/signature/payload writes it for cosign:
 *
 *   {"critical":{"identity":{"docker-reference":"<registry>/<repository>"},
 *                "image":{"docker-manifest-digest":"sha256:..."},
 *                "type":"cosign container image signature"},
 *    "optional":null}
 *
 * `cosign verify` checks the signature over these bytes, then that the digest in them is the image's
 * (pkg/cosign/verifiers.go SimpleClaimVerifier): a signature copied onto another digest fails there.
 * The bytes are the same for a digest and a repository however often it is signed, which is how a
 * second push of the same image finds its signature already there. Pure.
 */
import type { RepositoryName } from "../reference/name.js";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
const COSIGN_SIGNATURE_TYPE = "cosign container image signature";

/**
 * The repository as cosign names it (go-containerregistry's `Repository.Name()`): Docker Hub is
 * `index.docker.io`, every other registry as written. cosign writes it in the payload's
 * docker-reference and an attestation's subject.
 */
export function cosignRepositoryName(repository: RepositoryName): string {
  const registry = repository.host === "docker.io" ? "index.docker.io" : repository.host;
  return `${registry}/${repository.path}`;
}

/** The payload for `digest` in `repository` (as {@link cosignRepositoryName} names it), byte for byte as cosign's. */
export function simpleSigningPayload(repository: string, digest: string): Buffer {
  // Key order and spacing as Go's encoding/json writes the struct: the same bytes as cosign's payload.
  const payload = {
    critical: {
      identity: { "docker-reference": repository },
      image: { "docker-manifest-digest": digest },
      type: COSIGN_SIGNATURE_TYPE,
    },
    optional: null,
  };
  return Buffer.from(JSON.stringify(payload), "utf8");
}
