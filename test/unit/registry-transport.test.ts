import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { rootCertificates } from "node:tls";
import { exitCodeOf } from "../../lib/errors.js";
import { withSettingHints } from "../../lib/modes/setting-hints.js";
import { candidateBaseUrls, trustedCas, verifiesCertificate } from "../../lib/registry/transport.js";
import { tempDir } from "../helpers/tmp.js";

test("plain HTTP is tried only for loopback or insecure registries, after HTTPS", () => {
  assert.deepEqual(candidateBaseUrls("ghcr.io", false).map(String), ["https://ghcr.io/"]);
  assert.deepEqual(candidateBaseUrls("registry.lan:5000", true).map(String), [
    "https://registry.lan:5000/",
    "http://registry.lan:5000/",
  ]);
  assert.deepEqual(candidateBaseUrls("localhost:5000", false, "/ca.pem").map(String), [
    "https://localhost:5000/",
    "http://localhost:5000/",
  ]);
});

test("a loopback registry without a given CA is asked over plain HTTP first, then HTTPS, then HTTP with retries", () => {
  for (const insecure of [false, true]) {
    assert.deepEqual(candidateBaseUrls("127.0.0.1:5000", insecure).map(String), [
      "http://127.0.0.1:5000/",
      "https://127.0.0.1:5000/",
      "http://127.0.0.1:5000/",
    ]);
  }
});

test("certificates are verified, except insecure, and loopback without a given CA (docker's rule)", () => {
  assert.equal(verifiesCertificate("ghcr.io", {}), true);
  assert.equal(verifiesCertificate("ghcr.io", { insecure: true }), false);
  assert.equal(verifiesCertificate("127.0.0.1:5000", {}), false);
  assert.equal(verifiesCertificate("localhost:5000", { caFile: "/ca.pem" }), true);
  assert.equal(verifiesCertificate("localhost:5000", { caFile: "/ca.pem", insecure: true }), false);
});

test("a given CA is trusted beside the public roots and NODE_EXTRA_CA_CERTS", async () => {
  const dir = await tempDir();
  try {
    const ca = join(dir.path, "ca.pem");
    const extra = join(dir.path, "extra.pem");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nREGISTRY\n-----END CERTIFICATE-----\n");
    writeFileSync(extra, "-----BEGIN CERTIFICATE-----\nEXTRA\n-----END CERTIFICATE-----\n");
    assert.equal(
      trustedCas({}),
      undefined,
      "no CA given: Node's defaults (which include NODE_EXTRA_CA_CERTS)",
    );
    const cas = trustedCas({ caFile: ca, env: { NODE_EXTRA_CA_CERTS: extra } }) ?? [];
    assert.equal(cas.length, rootCertificates.length + 2);
    assert.ok(cas.some((c) => c.includes("REGISTRY")));
    assert.ok(cas.some((c) => c.includes("EXTRA")));
    // The transport says which file; the run names the setting (lib/modes/setting-hints.ts).
    assert.throws(
      () => {
        try {
          trustedCas({ caFile: join(dir.path, "missing.pem") });
        } catch (error) {
          throw withSettingHints(error);
        }
      },
      (error: unknown) => exitCodeOf(error) === 2 && /PLUGIN_REGISTRY_CA/.test(String(error)),
    );
  } finally {
    await dir.remove();
  }
});
