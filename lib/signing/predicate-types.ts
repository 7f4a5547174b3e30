/**
 * cosign's predicate type names (`cosign attest --type NAME`) and the in-toto predicate type URI each
 * stands for, so that `cosign verify-attestation --type NAME` finds what this tool attests. From
 * cosign's cmd/cosign/cli/options/predicate.go (v2.5) and the URIs its libraries define:
 * https://github.com/sigstore/cosign/blob/v2.5.0/cmd/cosign/cli/options/predicate.go
 * Pure.
 */

/** How the predicate file becomes the statement's `predicate` (cosign's attestation.GenerateStatement). */
type PredicateForm =
  /** cosign's own generic predicate: `{"Data": "<the file as text>", "Timestamp": "<RFC 3339>"}`. */
  | "cosign-custom"
  /** The file as text (SPDX tag-value). */
  | "text"
  /** The file as JSON, any value. */
  | "json"
  /** The file as a JSON object (a predicate given by URI, SLSA provenance, an in-toto link). */
  | "json-object"
  /** cosign's vulnerability scan record; a scanner's plain report is wrapped into one (see vuln-predicate.ts). */
  | "vuln";

export interface PredicateType {
  /** What the user wrote: a name, or the URI itself. */
  name: string;
  /** The statement's `predicateType`, also the layer's `predicateType` annotation. */
  uri: string;
  form: PredicateForm;
}

const SLSA_PROVENANCE_02 = "https://slsa.dev/provenance/v0.2";
const SPDX_DOCUMENT = "https://spdx.dev/Document";

const NAMED: Record<string, Omit<PredicateType, "name">> = {
  custom: { uri: "https://cosign.sigstore.dev/attestation/v1", form: "cosign-custom" },
  vuln: { uri: "https://cosign.sigstore.dev/attestation/vuln/v1", form: "vuln" },
  spdx: { uri: SPDX_DOCUMENT, form: "text" },
  spdxjson: { uri: SPDX_DOCUMENT, form: "json" },
  cyclonedx: { uri: "https://cyclonedx.org/bom", form: "json" },
  slsaprovenance: { uri: SLSA_PROVENANCE_02, form: "json-object" },
  slsaprovenance02: { uri: SLSA_PROVENANCE_02, form: "json-object" },
  slsaprovenance1: { uri: "https://slsa.dev/provenance/v1", form: "json-object" },
  link: { uri: "https://in-toto.io/Link/v1", form: "json-object" },
  openvex: { uri: "https://openvex.dev/ns", form: "json" },
};

/** The names cosign knows, for messages. */
export const PREDICATE_TYPE_NAMES: readonly string[] = Object.keys(NAMED);

/**
 * The predicate type for `PLUGIN_ATTEST_TYPE`: one of cosign's names (case as cosign spells them), or an
 * absolute URI (`scheme:...`), whose predicate must be a JSON object as with cosign. Undefined otherwise.
 */
export function predicateType(value: string): PredicateType | undefined {
  const name = value.trim();
  const named = NAMED[name];
  if (named) return { name, ...named };
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(name)) return undefined;
  try {
    new URL(name);
  } catch {
    return undefined;
  }
  return { name, uri: name, form: "json-object" };
}
