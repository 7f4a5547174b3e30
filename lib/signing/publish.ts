/**
 * After a push: the signature of the pushed digest under its `.sig` tag and, with a predicate, the
 * attestation under its `.att` tag, in the repository the image went to, through the registry client.
 * For a multi-platform image the digest is the index's, which is what `cosign verify IMAGE:TAG` resolves
 * and checks. A failure here comes after the image was published: it is exit 1, and the message says
 * that the image is published unsigned (or signed but not attested), with its digest.
 */
import { messageOf, StepFailure } from "../errors.js";
import type { Logger } from "../log.js";
import type { RepositoryName } from "../reference/name.js";
import type { RepositoryClient } from "../registry/repository.js";
import { type Attached, attachLayer } from "./attach.js";
import { cosignAttestationLayer, isSameAttestation, mayBeSameAttestation } from "./cosign-attestation.js";
import { cosignSignatureLayer, isSameSignature } from "./cosign-signature.js";
import type { SigningPlan } from "./prepare.js";
import { attachReferrer } from "./referrers.js";
import { attestationTag, signatureTag } from "./signature-image.js";
import { cosignRepositoryName } from "./simple-signing.js";

export interface SigningResult {
  /** The `.sig` image: `host/path:sha256-<hex>.sig` and the digest of its manifest. */
  signatureRef: string;
  signatureDigest: string;
  /** The OCI 1.1 referrer manifest of the signature, where the registry lists referrers. */
  signatureReferrerDigest?: string;
  attestationRef?: string;
  attestationDigest?: string;
}

/** The image was published but not (fully) signed: exit 1, naming what is published and what is not. */
class UnsignedPublishError extends StepFailure {
  constructor(message: string, cause: unknown) {
    super(message, { cause });
    this.name = "UnsignedPublishError";
  }
}

/** The error for an image that is published but whose signature could not be stored. */
export function publishedUnsigned(
  target: RepositoryName,
  digest: string,
  why: string,
  cause: unknown,
): UnsignedPublishError {
  return new UnsignedPublishError(
    `${target.full}@${digest} is published unsigned: ${why}: ${messageOf(cause)}; sign it again with the same key (cosign sign --key, or this step again)`,
    cause,
  );
}

function describe(attached: Attached, what: string): string {
  return attached.added
    ? `${what} added (${attached.layers} under the tag)`
    : `${what} already there (${attached.layers} under the tag), nothing written`;
}

/** Where and what to sign: the pushed image's repository (a client the caller holds) and digest. */
export interface SignPushedOptions {
  repository: RepositoryClient;
  target: RepositoryName;
  digest: string;
  logger: Logger;
  signal?: AbortSignal;
}

export async function signPushedImage(plan: SigningPlan, options: SignPushedOptions): Promise<SigningResult> {
  const { repository, target, digest, logger, signal } = options;
  const name = cosignRepositoryName(target);
  const image = `${target.full}@${digest}`;

  let signature: Attached;
  const layer = cosignSignatureLayer(plan.key, name, digest);
  try {
    signature = await attachLayer({
      repository,
      tag: signatureTag(digest),
      layer,
      isDuplicate: async (existing) => isSameSignature(plan.key, layer, existing),
      signal,
    });
  } catch (error) {
    throw publishedUnsigned(
      target,
      digest,
      `storing its signature (${target.full}:${signatureTag(digest)}) failed`,
      error,
    );
  }
  const result: SigningResult = {
    signatureRef: `${target.full}:${signature.tag}`,
    signatureDigest: signature.digest,
  };
  logger.info(
    `signed ${image}: ${result.signatureRef} at ${signature.digest}, ${describe(signature, "signature")}`,
  );
  // The OCI 1.1 form too, where the registry lists referrers; the .sig tag is what cosign verify reads
  // by default, so a failure here is only a warning.
  try {
    const referrer = await attachReferrer({
      repository,
      digest,
      layer,
      isDuplicate: (existing) => isSameSignature(plan.key, layer, existing),
      signal,
    });
    if (referrer) {
      result.signatureReferrerDigest = referrer.digest;
      logger.info(
        `signature referrer (OCI 1.1) of ${image}: ${target.full}@${referrer.digest}${referrer.added ? "" : ", already there"}`,
      );
    } else {
      logger.debug(`${target.host} lists no referrers (OCI 1.1): the signature is under the .sig tag only`);
    }
  } catch (error) {
    logger.warn(
      `the OCI 1.1 referrer form of the signature of ${image} was not stored (${messageOf(error)}); the signature is under ${result.signatureRef}, where cosign verify looks`,
    );
  }

  const attestation = plan.attestation;
  if (!attestation) return result;
  let attested: Attached;
  try {
    const layer = cosignAttestationLayer(plan.key, {
      predicateType: attestation.type.uri,
      predicate: attestation.predicate,
      subjectName: name,
      digest,
    });
    attested = await attachLayer({
      repository,
      tag: attestationTag(digest),
      layer,
      isDuplicate: async (existing, read) => {
        if (!mayBeSameAttestation(layer, existing)) return false;
        const bytes = await read();
        return bytes !== undefined && isSameAttestation(plan.key, layer, bytes);
      },
      signal,
    });
  } catch (error) {
    throw new UnsignedPublishError(
      `${image} is published and signed (${result.signatureRef}), but not attested: storing the attestation of ${attestation.file} (${target.full}:${attestationTag(digest)}) failed: ${messageOf(error)}`,
      error,
    );
  }
  result.attestationRef = `${target.full}:${attested.tag}`;
  result.attestationDigest = attested.digest;
  logger.info(
    `attested ${image} with ${attestation.file} (${attestation.type.uri}): ${result.attestationRef} at ${attested.digest}, ${describe(attested, "attestation")}`,
  );
  return result;
}
