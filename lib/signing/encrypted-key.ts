/**
 * The encryption of a cosign key file: the body of its `ENCRYPTED SIGSTORE PRIVATE KEY` (or the older
 * `ENCRYPTED COSIGN PRIVATE KEY`) PEM block is JSON that secure-systems-lab/go-securesystemslib's
 * `encrypted` package writes (cosign pkg/cosign/keys.go calls `encrypted.Encrypt`):
 *
 *   {"kdf": {"name": "scrypt", "params": {"N": 65536, "r": 8, "p": 1}, "salt": "<base64>"},
 *    "cipher": {"name": "nacl/secretbox", "nonce": "<base64, 24 bytes>"},
 *    "ciphertext": "<base64: Poly1305 tag, then the XSalsa20 ciphertext of the PKCS#8 DER key>"}
 *
 * The key of the box is scrypt(password, salt, N, r, p, 32 bytes), by Node's crypto; the box itself is
 * NaCl's secretbox (XSalsa20-Poly1305), which Node's crypto lacks: @noble/ciphers, loaded only when a key
 * is read. Only the scrypt parameters that library writes are accepted (as it does, so that a crafted
 * file cannot make the run spend gigabytes): the legacy N=2^15 and the current N=2^16, r=8, p=1.
 * https://github.com/secure-systems-lab/go-securesystemslib/blob/main/encrypted/encrypted.go
 */
import { scrypt } from "node:crypto";

/** The key file is not what cosign writes (bad JSON, unknown KDF or cipher, odd sizes). */
export class MalformedKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedKeyError";
  }
}

/** The box did not open: the password is not the one the key was encrypted with (or the file was altered). */
export class WrongPasswordError extends Error {
  constructor() {
    super("the password does not decrypt the key");
    this.name = "WrongPasswordError";
  }
}

const ACCEPTED_SCRYPT = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
];
const BOX_KEY_BYTES = 32;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;

interface EncryptedKeyJson {
  kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
  cipher?: { name?: unknown; nonce?: unknown };
  ciphertext?: unknown;
}

function base64Field(value: unknown, what: string): Buffer {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new MalformedKeyError(`its ${what} is not base64`);
  }
  return Buffer.from(value, "base64");
}

function scryptKey(password: Buffer, salt: Buffer, params: { N: number; r: number; p: number }) {
  // scrypt needs 128 * N * r bytes: 64 MiB for N=2^16, above Node's default bound of 32 MiB.
  const maxmem = 256 * params.N * params.r;
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password, salt, BOX_KEY_BYTES, { ...params, maxmem }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** The PKCS#8 DER bytes of the key in `body` (the PEM block's decoded bytes), opened with `password`. */
export async function decryptKey(body: Buffer, password: string): Promise<Buffer> {
  let json: EncryptedKeyJson;
  try {
    json = JSON.parse(body.toString("utf8")) as EncryptedKeyJson;
  } catch {
    throw new MalformedKeyError("its body is not the JSON that cosign writes");
  }
  if (json?.kdf?.name !== "scrypt") throw new MalformedKeyError(`its KDF is not scrypt`);
  if (json.cipher?.name !== "nacl/secretbox") throw new MalformedKeyError("its cipher is not nacl/secretbox");
  const { N, r, p } = json.kdf.params ?? {};
  const params = ACCEPTED_SCRYPT.find((a) => a.N === N && a.r === r && a.p === p);
  if (!params) {
    throw new MalformedKeyError(
      `its scrypt parameters (N=${String(N)}, r=${String(r)}, p=${String(p)}) are not those cosign writes`,
    );
  }
  const salt = base64Field(json.kdf.salt, "salt");
  const nonce = base64Field(json.cipher.nonce, "nonce");
  const sealed = base64Field(json.ciphertext, "ciphertext");
  if (nonce.length !== NONCE_BYTES) throw new MalformedKeyError(`its nonce is not ${NONCE_BYTES} bytes`);
  if (sealed.length <= TAG_BYTES) throw new MalformedKeyError("its ciphertext is empty");

  const boxKey = await scryptKey(Buffer.from(password, "utf8"), salt, params);
  // Loaded here: a run without a key never pays for it.
  const { xsalsa20poly1305 } = await import("@noble/ciphers/salsa.js");
  try {
    return Buffer.from(xsalsa20poly1305(boxKey, nonce).decrypt(sealed));
  } catch {
    throw new WrongPasswordError();
  } finally {
    boxKey.fill(0);
  }
}
