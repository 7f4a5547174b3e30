// The signing plan a run makes before anything runs: each bad input is a UsageError (exit 2) that names
// the setting to change and never quotes the key or the password.
import assert from "node:assert/strict";
import { truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { UsageError } from "../../lib/errors.js";
import { prepareSigning } from "../../lib/signing/prepare.js";
import { cosignEncryptedKey, ecKey, pkcs8Pem } from "../helpers/cosign-key.js";
import { testSettings } from "../helpers/settings.js";
import { tempDir } from "../helpers/tmp.js";

async function refused(promise: Promise<unknown>, message: RegExp, setting: string, secrets: string[] = []) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.equal(error.exitCode, 2);
    assert.match(error.message, message);
    assert.match(error.message, /nothing was pushed$/);
    assert.equal(error.setting, setting);
    for (const secret of secrets) assert.ok(!error.message.includes(secret), "a secret in the message");
    return true;
  });
}

test("no key: no plan; a key file: opened with its password; the key's content works too", async (t) => {
  const dir = await tempDir("signing-prepare-");
  t.after(dir.remove);
  assert.equal(await prepareSigning(testSettings()), undefined);
  const keyFile = join(dir.path, "cosign.key");
  await writeFile(keyFile, cosignEncryptedKey(ecKey().privateKey, "pw"));
  const plan = await prepareSigning(testSettings({ signKey: keyFile, signPassword: "pw" }));
  assert.equal(plan?.keySource, keyFile);
  assert.equal(plan?.attestation, undefined);
  const fromContent = await prepareSigning(testSettings({ signKey: pkcs8Pem(ecKey().privateKey) }));
  assert.equal(fromContent?.keySource, "the key in PLUGIN_SIGN_KEY");
});

test("a wrong or missing password names the password setting; a wrong key type names the key", async (t) => {
  const dir = await tempDir("signing-prepare-");
  t.after(dir.remove);
  const keyFile = join(dir.path, "cosign.key");
  const text = cosignEncryptedKey(ecKey().privateKey, "right-pw");
  await writeFile(keyFile, text);
  await refused(
    prepareSigning(testSettings({ signKey: keyFile, signPassword: "wrong-pw" })),
    /^PLUGIN_SIGN_KEY: .*cosign\.key cannot sign: the password does not decrypt it; check PLUGIN_SIGN_PASSWORD/,
    "PLUGIN_SIGN_PASSWORD",
    ["wrong-pw", "right-pw"],
  );
  await refused(
    prepareSigning(testSettings({ signKey: keyFile }), (key) =>
      key === "signPassword" ? "COSIGN_PASSWORD" : "--sign-key",
    ),
    /^--sign-key: .* no password is given; set PLUGIN_SIGN_PASSWORD \(or COSIGN_PASSWORD\) to the password/,
    "COSIGN_PASSWORD",
  );
  const p384 = pkcs8Pem(ecKey("secp384r1").privateKey);
  await refused(
    prepareSigning(testSettings({ signKey: p384 })),
    /^PLUGIN_SIGN_KEY: the key in PLUGIN_SIGN_KEY cannot sign: it is an ECDSA key on secp384r1.*cosign verify --key checks ECDSA P-256/,
    "PLUGIN_SIGN_KEY",
    p384.split("\n").slice(1, -2),
  );
});

test("a predicate that does not fit its type, or is too large, is refused before anything is pushed", async (t) => {
  const dir = await tempDir("signing-prepare-");
  t.after(dir.remove);
  const key = pkcs8Pem(ecKey().privateKey);
  const report = join(dir.path, "report.json");
  await writeFile(report, "<html>not json</html>");
  await refused(
    prepareSigning(testSettings({ signKey: key, attestPredicate: report, attestType: "vuln" })),
    /^PLUGIN_ATTEST_PREDICATE: .*report\.json cannot be attested as PLUGIN_ATTEST_TYPE=vuln: it is not JSON/,
    "PLUGIN_ATTEST_PREDICATE",
  );
  await writeFile(report, '{"Results":[]}');
  const plan = await prepareSigning(
    testSettings({ signKey: key, attestPredicate: report, attestType: "vuln" }),
  );
  assert.equal(plan?.attestation?.type.uri, "https://cosign.sigstore.dev/attestation/vuln/v1");
  await truncate(report, 33 * 1024 * 1024);
  await refused(
    prepareSigning(testSettings({ signKey: key, attestPredicate: report, attestType: "vuln" })),
    /report\.json is larger than 32 MiB, the most this tool attests/,
    "PLUGIN_ATTEST_PREDICATE",
  );
});
