// Reading the key that signs: cosign's encrypted key file, plain PKCS#8 / SEC 1 PEM keys, and every way
// a key is refused (no password, a wrong one, a key type cosign's --key verification would not take).
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync, verify } from "node:crypto";
import { test } from "node:test";
import { loadSigningKey, SigningKeyError } from "../../lib/signing/signing-key.js";
import { cosignEncryptedKey, ecKey, pem, pkcs8Pem } from "../helpers/cosign-key.js";

async function refused(text: string, password: string | undefined, problem: string, message: RegExp) {
  await assert.rejects(loadSigningKey(text, password), (error: unknown) => {
    assert.ok(error instanceof SigningKeyError, String(error));
    assert.equal(error.problem, problem);
    assert.match(error.message, message);
    return true;
  });
}

test("an encrypted cosign key opens with its password and signs what its public key verifies", async () => {
  const { privateKey, publicKey } = ecKey();
  for (const N of [32768, 65536]) {
    const key = await loadSigningKey(cosignEncryptedKey(privateKey, "s3cret pass", { N }), "s3cret pass");
    const data = Buffer.from("payload");
    const signature = key.sign(data);
    // DER, as cosign writes and verifies.
    assert.equal(signature[0], 0x30);
    assert.ok(verify("sha256", data, publicKey, signature), `N=${N}`);
    assert.ok(key.verify(data, signature));
    assert.ok(!key.verify(Buffer.from("other"), signature));
    assert.equal(key.publicKeyPem, publicKey.export({ type: "spki", format: "pem" }).toString());
  }
  // The older block name cosign still reads.
  await loadSigningKey(cosignEncryptedKey(privateKey, "pw", { type: "ENCRYPTED COSIGN PRIVATE KEY" }), "pw");
});

test("an encrypted key: no password, a wrong password, and the empty password cosign allows", async () => {
  const { privateKey } = ecKey();
  const encrypted = cosignEncryptedKey(privateKey, "right");
  await refused(encrypted, undefined, "password-missing", /encrypted cosign key and no password is given/);
  await refused(encrypted, "", "password-missing", /no password is given/);
  await refused(encrypted, "wrong", "password-wrong", /^the password does not decrypt it$/);
  // A key made with an empty password opens without one (an empty variable reads as unset).
  await loadSigningKey(cosignEncryptedKey(privateKey, ""), undefined);
});

test("an encrypted key with other scrypt parameters or a damaged body is not a key cosign wrote", async () => {
  const { privateKey } = ecKey();
  const huge = cosignEncryptedKey(privateKey, "pw", { kdf: { params: { N: 1048576, r: 8, p: 1 } } });
  await refused(
    huge,
    "pw",
    "not-a-key",
    /scrypt parameters \(N=1048576, r=8, p=1\) are not those cosign writes/,
  );
  await refused(
    pem("ENCRYPTED SIGSTORE PRIVATE KEY", Buffer.from("{not json")),
    "pw",
    "not-a-key",
    /not the JSON/,
  );
});

test("plain PKCS#8 and SEC 1 ECDSA P-256 keys sign without a password", async () => {
  const { privateKey, publicKey } = ecKey();
  const data = Buffer.from("x");
  const fromPkcs8 = await loadSigningKey(pkcs8Pem(privateKey), undefined);
  assert.ok(verify("sha256", data, publicKey, fromPkcs8.sign(data)));
  const sec1 = privateKey.export({ type: "sec1", format: "pem" }).toString();
  const fromSec1 = await loadSigningKey(sec1, "ignored");
  assert.ok(verify("sha256", data, createPublicKey(privateKey), fromSec1.sign(data)));
});

test("keys that are not ECDSA P-256 are refused, naming what they are", async () => {
  await refused(
    pkcs8Pem(ecKey("secp384r1").privateKey),
    undefined,
    "unsupported-key",
    /ECDSA key on secp384r1/,
  );
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  await refused(
    pkcs8Pem(rsa),
    undefined,
    "unsupported-key",
    /an RSA key of 2048 bits; this tool signs with ECDSA P-256/,
  );
  const ed = generateKeyPairSync("ed25519").privateKey;
  await refused(pkcs8Pem(ed), undefined, "unsupported-key", /an ed25519 key/);
  // Encrypted, and not P-256: refused after it opens.
  await refused(cosignEncryptedKey(rsa, "pw"), "pw", "unsupported-key", /RSA/);
});

test("text that holds no key, or a PEM block cosign does not sign with, is refused without echoing it", async () => {
  await refused("just some text", undefined, "not-a-key", /holds no PEM key block/);
  const { publicKey } = ecKey();
  await refused(
    publicKey.export({ type: "spki", format: "pem" }).toString(),
    undefined,
    "not-a-key",
    /"PUBLIC KEY", which cosign does not sign with/,
  );
  const encryptedPkcs8 = ecKey()
    .privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" })
    .toString();
  await refused(encryptedPkcs8, "pw", "not-a-key", /"ENCRYPTED PRIVATE KEY"/);
  const body = "AAAAnotakeyAAAA";
  await assert.rejects(loadSigningKey(pem("PRIVATE KEY", Buffer.from(body)), undefined), (error: Error) => {
    assert.match(error.message, /does not hold a private key/);
    assert.ok(!error.message.includes(Buffer.from(body).toString("base64")));
    return true;
  });
});
