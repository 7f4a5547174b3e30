/**
 * The key that signs: read from a PEM block as cosign reads `--key` (pkg/cosign/keys.go LoadPrivateKey,
 * ImportKeyPair): an encrypted cosign key (`ENCRYPTED SIGSTORE PRIVATE KEY`, `ENCRYPTED COSIGN PRIVATE
 * KEY`, see encrypted-key.ts), or a plain PKCS#8 (`PRIVATE KEY`) or SEC 1 (`EC PRIVATE KEY`) key.
 *
 * Only ECDSA on P-256 is taken: it is what `cosign generate-key-pair` makes, and what `cosign verify
 * --key cosign.pub` checks with SHA-256 as it does by default; signing with another kind of key would
 * publish signatures that the deploy gate may not accept. Signatures are ASN.1 DER, as cosign writes.
 * The private key stays a Node KeyObject in this process: it is never written, printed or passed on.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from "node:crypto";
import { decryptKey, MalformedKeyError, WrongPasswordError } from "./encrypted-key.js";

type SigningKeyProblem =
  /** No PEM block, or one of a type cosign does not sign with. */
  | "not-a-key"
  /** An encrypted key and no password. */
  | "password-missing"
  /** The password does not open the key. */
  | "password-wrong"
  /** A key, but not ECDSA P-256. */
  | "unsupported-key";

/** Why a key cannot sign; the message says what the key is, never any of its bytes. */
export class SigningKeyError extends Error {
  readonly problem: SigningKeyProblem;
  constructor(problem: SigningKeyProblem, message: string) {
    super(message);
    this.name = "SigningKeyError";
    this.problem = problem;
  }
}

export interface SigningKey {
  /** The public key as cosign.pub holds it (SPKI PEM), for messages and checks. */
  readonly publicKeyPem: string;
  /** ECDSA P-256 with SHA-256 over `data`, DER-encoded. */
  sign(data: Buffer): Buffer;
  /** Whether `signature` (DER) is this key's over `data`. */
  verify(data: Buffer, signature: Buffer): boolean;
}

const ENCRYPTED_TYPES = ["ENCRYPTED SIGSTORE PRIVATE KEY", "ENCRYPTED COSIGN PRIVATE KEY"];
const PLAIN_TYPES = ["PRIVATE KEY", "EC PRIVATE KEY"];

/** The first PEM block of `text`: its type and its decoded body. */
function firstPemBlock(text: string): { type: string; body: Buffer } | undefined {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)\r?\n?-----END \1-----/.exec(text);
  if (!match?.[1] || match[2] === undefined) return undefined;
  // Headers (`Proc-Type: ...`) are legacy OpenSSL encryption, which cosign does not read either.
  if (match[2].includes(":")) return undefined;
  return { type: match[1], body: Buffer.from(match[2].replace(/\s+/g, ""), "base64") };
}

function describeKey(key: KeyObject): string {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === "ec") return `an ECDSA key on ${details?.namedCurve ?? "an unknown curve"}`;
  if (key.asymmetricKeyType === "rsa") return `an RSA key of ${details?.modulusLength ?? "?"} bits`;
  return `an ${key.asymmetricKeyType ?? "unknown"} key`;
}

function signingKeyOf(privateKey: KeyObject): SigningKey {
  if (privateKey.asymmetricKeyType !== "ec" || privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new SigningKeyError(
      "unsupported-key",
      `it is ${describeKey(privateKey)}; this tool signs with ECDSA P-256 keys, as cosign generate-key-pair makes them`,
    );
  }
  const publicKey = createPublicKey(privateKey);
  return {
    publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    sign: (data) => sign("sha256", data, { key: privateKey, dsaEncoding: "der" }),
    verify: (data, signature) => {
      try {
        return verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, signature);
      } catch {
        return false;
      }
    },
  };
}

/**
 * The signing key in `pem` (a cosign key file's text, or a plain PEM key), opened with `password` when
 * it is encrypted. Throws {@link SigningKeyError}.
 */
export async function loadSigningKey(pem: string, password: string | undefined): Promise<SigningKey> {
  const block = firstPemBlock(pem);
  if (!block) {
    throw new SigningKeyError(
      "not-a-key",
      "it holds no PEM key block; give the cosign.key that cosign generate-key-pair writes, or a PKCS#8 PEM ECDSA P-256 key",
    );
  }
  let der: Buffer;
  let format: "pkcs8" | "sec1" = "pkcs8";
  if (ENCRYPTED_TYPES.includes(block.type)) {
    // An unset password is tried as the empty one, which cosign generate-key-pair allows (an empty
    // variable reads as unset in the settings, so "" and no password cannot be told apart).
    const given = password !== undefined && password !== "";
    try {
      der = await decryptKey(block.body, given ? password : "");
    } catch (error) {
      if (error instanceof WrongPasswordError) {
        throw given
          ? new SigningKeyError("password-wrong", "the password does not decrypt it")
          : new SigningKeyError("password-missing", "it is an encrypted cosign key and no password is given");
      }
      if (error instanceof MalformedKeyError)
        throw new SigningKeyError("not-a-key", `it is not a key cosign wrote: ${error.message}`);
      throw error;
    }
  } else if (PLAIN_TYPES.includes(block.type)) {
    der = block.body;
    if (block.type === "EC PRIVATE KEY") format = "sec1";
  } else {
    throw new SigningKeyError(
      "not-a-key",
      `its PEM block is "${block.type}", which cosign does not sign with; give the cosign.key that cosign generate-key-pair writes, or a PKCS#8 PEM ECDSA P-256 key ("PRIVATE KEY")`,
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: der, format: "der", type: format });
  } catch {
    throw new SigningKeyError("not-a-key", `its ${block.type} block does not hold a private key`);
  } finally {
    // The decrypted bytes are not kept once Node holds the key.
    if (der !== block.body) der.fill(0);
    block.body.fill(0);
  }
  return signingKeyOf(privateKey);
}
