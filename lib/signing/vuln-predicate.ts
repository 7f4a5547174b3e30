/**
 * cosign's vulnerability scan record (predicate type https://cosign.sigstore.dev/attestation/vuln/v1,
 * https://github.com/sigstore/cosign/blob/main/specs/COSIGN_VULN_ATTESTATION_SPEC.md): the scanner, its
 * database, the scan's start and end, and its whole report under `scanner.result`.
 *
 * `trivy --format cosign-vuln` writes that record, and is used as it is. A scanner's plain JSON report
 * (`trivy --format json`, `grype -o json`) is not one: `cosign attest --type vuln` reads it into the
 * record's fields, finds none, and attests an empty record without the report (observed with cosign 2.5:
 * `"result": null`). Here such a report becomes the record's `result`, with what the report says of its
 * scanner and time, so the attestation carries the report that was scanned. Pure.
 */

interface VulnRecord {
  invocation: { parameters: null; uri: string; event_id: string; "builder.id": string };
  scanner: { uri: string; version: string; db: { uri: string; version: string }; result: unknown };
  metadata: { scanStartedOn: string; scanFinishedOn: string };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `value` already is a vulnerability scan record (as `trivy --format cosign-vuln` writes). */
function isVulnRecord(value: unknown): boolean {
  return isObject(value) && isObject(value.scanner) && "result" in value.scanner;
}

/** RFC 3339 with seconds, as Go's time.Time marshals a UTC time without fractions. */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function dateOf(value: unknown): Date | undefined {
  if (typeof value !== "string") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The scanner a plain report comes from, as far as the report says. */
function scannerOf(report: Record<string, unknown>): { uri: string; version: string; time?: Date } {
  // Grype: {"descriptor": {"name": "grype", "version": "0.74.0", "timestamp": "..."}, "matches": [...]}
  const descriptor = report.descriptor;
  if (isObject(descriptor) && descriptor.name === "grype") {
    const version = typeof descriptor.version === "string" ? descriptor.version : "";
    return {
      uri: `pkg:github/anchore/grype${version ? `@${version}` : ""}`,
      version,
      time: dateOf(descriptor.timestamp),
    };
  }
  // Trivy: {"SchemaVersion": 2, "CreatedAt": "...", "ArtifactName": "...", "Results": [...]}
  if ("SchemaVersion" in report && "ArtifactName" in report) {
    return { uri: "pkg:github/aquasecurity/trivy", version: "", time: dateOf(report.CreatedAt) };
  }
  return { uri: "", version: "" };
}

/**
 * The record for `report` (the predicate file's JSON): the record itself when it is one, else a record
 * whose result is the report. `reportTime` (the file's modification time) stands for the scan's time when
 * the report gives none.
 */
export function vulnRecord(report: unknown, reportTime: Date): unknown {
  if (isVulnRecord(report)) return report;
  const scanner = isObject(report) ? scannerOf(report) : { uri: "", version: "" };
  const time = rfc3339(scanner.time ?? reportTime);
  const record: VulnRecord = {
    invocation: { parameters: null, uri: "", event_id: "", "builder.id": "" },
    scanner: { uri: scanner.uri, version: scanner.version, db: { uri: "", version: "" }, result: report },
    metadata: { scanStartedOn: time, scanFinishedOn: time },
  };
  return record;
}
