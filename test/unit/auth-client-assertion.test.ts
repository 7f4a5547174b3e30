import assert from "node:assert/strict";
import { randomBytes, verify, X509Certificate } from "node:crypto";
import { after, before, test } from "node:test";
import { clientAssertion, parseClientCertificate } from "../../lib/auth/client-assertion.js";
import { checkCloudLogin } from "../../lib/auth/cloud-login.js";
import { UsageError } from "../../lib/errors.js";
import { type ClientCertificateFiles, makeClientCertificate } from "../helpers/client-certificate.js";
import { namesSetting } from "../helpers/setting-names.js";
import { testSettings } from "../helpers/settings.js";
import { tempDir } from "../helpers/tmp.js";

let dir: Awaited<ReturnType<typeof tempDir>>;
let rsa: ClientCertificateFiles;
let other: ClientCertificateFiles;
let ec: ClientCertificateFiles;
let encrypted: ClientCertificateFiles;

before(async () => {
  dir = await tempDir("client-assertion-");
  rsa = makeClientCertificate(dir.path, "sp-rsa");
  other = makeClientCertificate(dir.path, "sp-other");
  ec = makeClientCertificate(dir.path, "sp-ec", { keyType: "ec" });
  encrypted = makeClientCertificate(dir.path, "sp-encrypted", { encrypted: true });
});

after(async () => dir?.remove());

const TOKEN_ENDPOINT = "https://login.microsoftonline.com/tenant-id/oauth2/v2.0/token";
const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

test("the certificate credential is read from base64 PEM or PEM; x5t is the SHA-1 thumbprint openssl prints", () => {
  for (const value of [rsa.base64, rsa.pem, `${(rsa.base64.match(/.{1,76}/g) ?? []).join("\n")}\n`]) {
    const parsed = parseClientCertificate(value);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
    assert.equal(Buffer.from(parsed.value.x5t, "base64url").toString("hex"), rsa.sha1Hex);
    assert.equal(parsed.value.certificate.subject, "CN=sp-rsa");
  }
  // Key first, and an unrelated certificate (a CA of the chain) before the one that matches the key.
  const chained = parseClientCertificate(`${rsa.keyPem}${other.certificatePem}${rsa.certificatePem}`);
  assert.ok(chained.ok);
  assert.equal(chained.value.certificate.subject, "CN=sp-rsa");
});

test("the assertion: RS256 with x5t, aud the token endpoint, iss = sub = client id, jti, nbf/iat/exp; it verifies with the certificate", () => {
  const parsed = parseClientCertificate(rsa.base64);
  assert.ok(parsed.ok);
  const now = new Date("2026-05-04T10:00:00Z");
  const jwt = clientAssertion(parsed.value, {
    clientId: "app-id",
    audience: TOKEN_ENDPOINT,
    now,
    id: "jti-1",
  });
  const [header = "", payload = "", signature = ""] = jwt.split(".");
  assert.deepEqual(decode(header), {
    alg: "RS256",
    typ: "JWT",
    x5t: Buffer.from(rsa.sha1Hex, "hex").toString("base64url"),
  });
  const seconds = now.getTime() / 1000;
  assert.deepEqual(decode(payload), {
    aud: TOKEN_ENDPOINT,
    iss: "app-id",
    sub: "app-id",
    jti: "jti-1",
    nbf: seconds,
    iat: seconds,
    exp: seconds + 600,
  });
  assert.doesNotMatch(jwt, /[+/=]/, "base64url without padding");
  // Verified with the certificate's public key alone, as Azure AD verifies it.
  const publicKey = new X509Certificate(rsa.certificatePem).publicKey;
  const signed = Buffer.from(`${header}.${payload}`, "ascii");
  assert.ok(verify("sha256", signed, publicKey, Buffer.from(signature, "base64url")));
  assert.ok(
    !verify(
      "sha256",
      signed,
      new X509Certificate(other.certificatePem).publicKey,
      Buffer.from(signature, "base64url"),
    ),
  );
  // A fresh jti every time.
  const again = clientAssertion(parsed.value, { clientId: "app-id", audience: TOKEN_ENDPOINT });
  assert.notEqual(decode(again.split(".")[1] ?? "").jti, decode(payload).jti);
});

test("what is no usable certificate credential is refused with a reason that quotes none of it", () => {
  const cases: [string, string, RegExp][] = [
    ["an EC key", ec.base64, /holds an EC key: Azure AD takes certificate credentials with RSA keys only/],
    ["an encrypted key", encrypted.base64, /holds an encrypted private key, and no password can be given/],
    ["a certificate alone", Buffer.from(rsa.certificatePem).toString("base64"), /holds no private key/],
    ["a key alone", Buffer.from(rsa.keyPem).toString("base64"), /holds no certificate:/],
    [
      "a key with another's certificate",
      Buffer.from(`${other.certificatePem}${rsa.keyPem}`).toString("base64"),
      /holds no certificate that matches its private key/,
    ],
    [
      "a PKCS#12 file",
      Buffer.concat([Buffer.from([0x30, 0x82]), randomBytes(64)]).toString("base64"),
      /base64 of a binary file \(PKCS#12 or DER\?\)/,
    ],
    [
      "base64 of text",
      Buffer.from("hello there").toString("base64"),
      /is base64, but of something that is not PEM/,
    ],
    ["neither", "not a certificate!", /is neither PEM nor base64 of PEM/],
  ];
  for (const [what, value, reason] of cases) {
    const parsed = parseClientCertificate(value);
    assert.equal(parsed.ok, false, what);
    if (parsed.ok) continue;
    assert.match(parsed.reason, reason, what);
    assert.ok(!parsed.reason.includes(value.slice(0, 12)), what);
  }
});

test("settings with a certificate that cannot sign are bad input before the run, naming CLIENT_CERTIFICATE", async () => {
  const acr = { registry: "myregistry.azurecr.io", clientId: "app-id", tenantId: "tenant-id" };
  await checkCloudLogin(testSettings({ ...acr, clientCertificate: rsa.base64 }));
  await assert.rejects(
    checkCloudLogin(testSettings({ ...acr, clientCertificate: ec.base64 }), (key) =>
      key === "clientCertificate" ? "PLUGIN_CLIENT_CERTIFICATE" : key,
    ),
    (error: unknown) =>
      error instanceof UsageError &&
      /^PLUGIN_CLIENT_CERTIFICATE holds an EC key/.test(error.message) &&
      namesSetting(error, "CLIENT_CERTIFICATE"),
  );
  // With a secret too, the secret is used (as in the plugin) and the certificate is neither read nor refused.
  await checkCloudLogin(testSettings({ ...acr, clientSecret: "s3cret", clientCertificate: "not one" }));
});
