// The statement's predicate from the predicate file, per type: a scanner's plain report becomes a
// vulnerability scan record that keeps the report (cosign 2.5 would attest an empty record), a record
// already in that form is kept, and files that do not fit their type are refused.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PredicateError, predicateOf } from "../../lib/signing/predicate.js";
import { predicateType } from "../../lib/signing/predicate-types.js";

const modified = new Date("2025-01-02T03:04:05.678Z");
const now = new Date("2025-06-07T08:09:10.000Z");
const input = (value: unknown) => ({
  bytes: Buffer.from(typeof value === "string" ? value : JSON.stringify(value)),
  modified,
  now,
});
const type = (name: string) => {
  const t = predicateType(name);
  assert.ok(t);
  return t;
};

test("vuln: Trivy's plain JSON report becomes the record's result, timed by its CreatedAt", () => {
  const report = {
    SchemaVersion: 2,
    CreatedAt: "2025-03-04T05:06:07.123456789Z",
    ArtifactName: "app.tar",
    Results: [{ Target: "x" }],
  };
  assert.deepEqual(predicateOf(type("vuln"), input(report)), {
    invocation: { parameters: null, uri: "", event_id: "", "builder.id": "" },
    scanner: {
      uri: "pkg:github/aquasecurity/trivy",
      version: "",
      db: { uri: "", version: "" },
      result: report,
    },
    metadata: { scanStartedOn: "2025-03-04T05:06:07Z", scanFinishedOn: "2025-03-04T05:06:07Z" },
  });
});

test("vuln: Grype's report names its scanner; an unknown report is timed by the file", () => {
  const grype = {
    matches: [],
    descriptor: { name: "grype", version: "0.74.0", timestamp: "2025-02-03T04:05:06Z" },
  };
  const record = predicateOf(type("vuln"), input(grype)) as {
    scanner: { uri: string; version: string };
    metadata: { scanFinishedOn: string };
  };
  assert.equal(record.scanner.uri, "pkg:github/anchore/grype@0.74.0");
  assert.equal(record.scanner.version, "0.74.0");
  assert.equal(record.metadata.scanFinishedOn, "2025-02-03T04:05:06Z");
  const other = predicateOf(type("vuln"), input({ findings: [] })) as {
    scanner: { uri: string; result: unknown };
    metadata: { scanStartedOn: string };
  };
  assert.equal(other.scanner.uri, "");
  assert.deepEqual(other.scanner.result, { findings: [] });
  assert.equal(other.metadata.scanStartedOn, "2025-01-02T03:04:05Z");
});

test("vuln: a record trivy --format cosign-vuln wrote is attested as it is", () => {
  const record = {
    invocation: { parameters: null, uri: "", event_id: "", "builder.id": "" },
    scanner: {
      uri: "pkg:github/aquasecurity/trivy@v0.50.0",
      version: "v0.50.0",
      db: { uri: "", version: "" },
      result: { Results: [] },
    },
    metadata: { scanStartedOn: "2025-01-01T00:00:00Z", scanFinishedOn: "2025-01-01T00:00:01Z" },
  };
  assert.deepEqual(predicateOf(type("vuln"), input(record)), record);
});

test("custom is cosign's generic predicate; spdx is text; JSON types parse; a URI needs a JSON object", () => {
  assert.deepEqual(predicateOf(type("custom"), input("any text")), {
    Data: "any text",
    Timestamp: "2025-06-07T08:09:10Z",
  });
  assert.equal(predicateOf(type("spdx"), input("SPDXVersion: SPDX-2.3")), "SPDXVersion: SPDX-2.3");
  assert.deepEqual(predicateOf(type("cyclonedx"), input({ bomFormat: "CycloneDX" })), {
    bomFormat: "CycloneDX",
  });
  assert.deepEqual(predicateOf(type("https://example.com/p/v1"), input({ a: 1 })), { a: 1 });
  assert.throws(() => predicateOf(type("https://example.com/p/v1"), input([1])), /JSON but not an object/);
  assert.throws(
    () => predicateOf(type("vuln"), input("{not json")),
    (error: unknown) => {
      assert.ok(error instanceof PredicateError);
      assert.match(error.message, /not JSON .*which the predicate type vuln needs/);
      return true;
    },
  );
});
