/**
 * The predicate of an attestation, from the file `PLUGIN_ATTEST_PREDICATE` names, in the form its type
 * takes in cosign's attestation.GenerateStatement (pkg/cosign/attestation/attestation.go, v2.5): the
 * file as JSON for the JSON types, as text for SPDX tag-value, wrapped as cosign's generic predicate for
 * `custom`, and as a vulnerability scan record for `vuln` (vuln-predicate.ts). Pure.
 */
import type { PredicateType } from "./predicate-types.js";
import { vulnRecord } from "./vuln-predicate.js";

/** The predicate file does not fit its type (not JSON where JSON is needed); the message says how. */
export class PredicateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PredicateError";
  }
}

interface PredicateInput {
  bytes: Buffer;
  /** The file's modification time: the scan's time for a report that gives none. */
  modified: Date;
  /** This run's time: the `Timestamp` of cosign's generic predicate. */
  now: Date;
}

function parseJson(bytes: Buffer, type: PredicateType): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new PredicateError(
      `it is not JSON (${(error as Error).message}), which the predicate type ${type.name} needs`,
    );
  }
}

/** The statement's `predicate` for the file's bytes and the type. Throws {@link PredicateError}. */
export function predicateOf(type: PredicateType, input: PredicateInput): unknown {
  switch (type.form) {
    case "cosign-custom":
      // cosign's CosignPredicate has no JSON tags: its fields are "Data" and "Timestamp" as written.
      return {
        Data: input.bytes.toString("utf8"),
        Timestamp: input.now.toISOString().replace(/\.\d{3}Z$/, "Z"),
      };
    case "text":
      return input.bytes.toString("utf8");
    case "json":
      return parseJson(input.bytes, type);
    case "json-object": {
      const value = parseJson(input.bytes, type);
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw new PredicateError(`it is JSON but not an object, which the predicate type ${type.name} needs`);
      }
      return value;
    }
    case "vuln":
      return vulnRecord(parseJson(input.bytes, type), input.modified);
  }
}
