/**
 * The in-toto statement an attestation signs (https://github.com/in-toto/attestation/blob/main/spec/v0.1.0/
 * statement.md), as cosign attest writes it: `_type` v0.1, the predicate type, one subject (the
 * repository as cosign names it, with the image's sha256), and the predicate. `cosign verify-attestation`
 * checks that a subject's digest is the image's (pkg/cosign/verifiers.go IntotoSubjectClaimVerifier). Pure.
 */

const IN_TOTO_STATEMENT_V01 = "https://in-toto.io/Statement/v0.1";

/** The statement's bytes, fields in cosign's order. */
export function inTotoStatement(options: {
  predicateType: string;
  subjectName: string;
  /** `sha256:<hex>` */
  digest: string;
  predicate: unknown;
}): Buffer {
  const [algorithm, hex] = options.digest.split(":");
  const statement = {
    _type: IN_TOTO_STATEMENT_V01,
    predicateType: options.predicateType,
    subject: [{ name: options.subjectName, digest: { [algorithm ?? "sha256"]: hex } }],
    predicate: options.predicate,
  };
  return Buffer.from(JSON.stringify(statement), "utf8");
}
