/**
 * Keys in the formats cosign reads, made in the test's process: an ECDSA P-256 key (or another kind) as
 * PKCS#8, and cosign's encrypted key file (go-securesystemslib's `encrypted` JSON: scrypt + NaCl
 * secretbox, in an `ENCRYPTED SIGSTORE PRIVATE KEY` PEM block) for unit tests that must not need cosign.
 * The integration tests use keys that the real `cosign generate-key-pair` makes.
 */
import { generateKeyPairSync, type KeyObject, randomBytes, scryptSync } from "node:crypto";
import { xsalsa20poly1305 } from "@noble/ciphers/salsa.js";

export function pem(type: string, body: Buffer): string {
  const lines = body.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join("\n")}\n-----END ${type}-----\n`;
}

export function ecKey(curve = "prime256v1"): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: curve });
}

/** The PKCS#8 PEM (`PRIVATE KEY`) of a key. */
export function pkcs8Pem(key: KeyObject): string {
  return key.export({ type: "pkcs8", format: "pem" }).toString();
}

/** cosign's encrypted key file for `key`, with `password` and scrypt's `N` (cosign 2.x writes 65536). */
export function cosignEncryptedKey(
  key: KeyObject,
  password: string,
  options: { N?: number; type?: string; kdf?: Record<string, unknown> } = {},
): string {
  const der = key.export({ type: "pkcs8", format: "der" });
  const N = options.N ?? 32768;
  const salt = randomBytes(32);
  const nonce = randomBytes(24);
  const boxKey = scryptSync(password, salt, 32, { N, r: 8, p: 1, maxmem: 256 * N * 8 });
  const sealed = Buffer.from(xsalsa20poly1305(boxKey, nonce).encrypt(der));
  const json = {
    kdf: { name: "scrypt", params: { N, r: 8, p: 1 }, salt: salt.toString("base64"), ...options.kdf },
    cipher: { name: "nacl/secretbox", nonce: nonce.toString("base64") },
    ciphertext: sealed.toString("base64"),
  };
  return pem(options.type ?? "ENCRYPTED SIGSTORE PRIVATE KEY", Buffer.from(JSON.stringify(json)));
}
