/**
 * The image cosign keeps signatures and attestations in (pkg/oci/static, pkg/oci/mutate; observed with
 * cosign 2.5): an OCI manifest tagged `sha256-<hex of the signed digest>.sig` (or `.att`) in the signed
 * image's repository, one layer per signature, each layer's bytes the signed payload:
 *
 * - `.sig`: layer media type application/vnd.dev.cosign.simplesigning.v1+json, the payload of
 *   simple-signing.ts, and the signature in the annotation `dev.cosignproject.cosign/signature` (base64);
 * - `.att`: layer media type application/vnd.dsse.envelope.v1+json, the DSSE envelope (dsse.ts), whose
 *   signature is inside it: the annotation is present and empty, `predicateType` names the predicate.
 *
 * The config is the one go-containerregistry's mutate.Append writes for such an image (no platform, a
 * zero time, one history entry and one diff ID per layer); cosign does not read it back. Another
 * signature for the same digest is a layer appended to the same manifest, as cosign does. Pure.
 */
import { digestOf, SHA256_DIGEST } from "../reference/digest.js";
import { OCI_CONFIG, OCI_MANIFEST } from "../reference/media-types.js";

export const SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature";
export const PREDICATE_TYPE_ANNOTATION = "predicateType";
/** cosign refuses to read more layers than this (pkg/oci/mutate maxLayers): a tag that full takes no more. */
export const MAX_SIGNATURE_LAYERS = 1000;
const ZERO_TIME = "0001-01-01T00:00:00Z";

export interface LayerDescriptor {
  mediaType: string;
  size: number;
  digest: string;
  annotations?: Record<string, string>;
}

/** A signature image as read from, or to be written to, a registry. */
interface SignatureImage {
  /** The manifest's media type: OCI, or Docker's when cosign ran with COSIGN_DOCKER_MEDIA_TYPES. */
  mediaType: string;
  configMediaType: string;
  layers: LayerDescriptor[];
}

/** A layer to add, with its bytes. */
export interface SignatureLayer extends LayerDescriptor {
  bytes: Buffer;
}

/** `sha256-<hex>.sig`: the tag cosign looks for the signatures of `digest` under. */
export function signatureTag(digest: string): string {
  return `${digest.replace(":", "-")}.sig`;
}

/** `sha256-<hex>.att`: the tag of the attestations of `digest`. */
export function attestationTag(digest: string): string {
  return `${digest.replace(":", "-")}.att`;
}

/** A layer of `mediaType` holding `bytes`, with `annotations`. */
export function signatureLayer(
  mediaType: string,
  bytes: Buffer,
  annotations: Record<string, string>,
): SignatureLayer {
  return { mediaType, size: bytes.length, digest: digestOf(bytes), annotations, bytes };
}

/** An image with no layer yet, in OCI media types (cosign's default). */
export function emptySignatureImage(): SignatureImage {
  return { mediaType: OCI_MANIFEST, configMediaType: OCI_CONFIG, layers: [] };
}

function isDescriptor(value: unknown): value is LayerDescriptor {
  const d = value as Partial<LayerDescriptor> | null;
  return (
    typeof d?.mediaType === "string" &&
    typeof d.digest === "string" &&
    SHA256_DIGEST.test(d.digest) &&
    typeof d.size === "number" &&
    Number.isSafeInteger(d.size) &&
    d.size >= 0 &&
    (d.annotations === undefined || (typeof d.annotations === "object" && d.annotations !== null))
  );
}

/**
 * The signature image a registry serves under a `.sig`/`.att` tag, or undefined when the manifest is not
 * one this tool can add a layer to (an index, a manifest without layers, malformed descriptors).
 */
export function parseSignatureImage(text: string): SignatureImage | undefined {
  let value: { mediaType?: unknown; config?: { mediaType?: unknown }; layers?: unknown };
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value.layers) || !value.layers.every(isDescriptor)) return undefined;
  if (typeof value.config?.mediaType !== "string") return undefined;
  const mediaType = typeof value.mediaType === "string" ? value.mediaType : OCI_MANIFEST;
  if (mediaType.includes("index") || mediaType.includes("manifest.list")) return undefined;
  const layers = (value.layers as LayerDescriptor[]).map((layer) => ({
    mediaType: layer.mediaType,
    size: layer.size,
    digest: layer.digest,
    ...(layer.annotations ? { annotations: stringAnnotations(layer.annotations) } : {}),
  }));
  return { mediaType, configMediaType: value.config.mediaType, layers };
}

function stringAnnotations(annotations: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) if (typeof value === "string") out[key] = value;
  return out;
}

/** The config and manifest bytes of `image` (field order as go-containerregistry writes them). */
export function serializeSignatureImage(image: SignatureImage): {
  config: Buffer;
  configDigest: string;
  manifest: Buffer;
} {
  const config = Buffer.from(
    JSON.stringify({
      architecture: "",
      created: ZERO_TIME,
      history: image.layers.map(() => ({ created: ZERO_TIME })),
      os: "",
      rootfs: { type: "layers", diff_ids: image.layers.map((layer) => layer.digest) },
      config: {},
    }),
    "utf8",
  );
  const configDigest = digestOf(config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: image.mediaType,
      config: { mediaType: image.configMediaType, size: config.length, digest: configDigest },
      layers: image.layers.map((layer) => ({
        mediaType: layer.mediaType,
        size: layer.size,
        digest: layer.digest,
        ...(layer.annotations ? { annotations: layer.annotations } : {}),
      })),
    }),
    "utf8",
  );
  return { config, configDigest, manifest };
}
