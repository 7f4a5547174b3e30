/**
 * A service principal's certificate credential for Azure AD: the PEM that `CLIENT_CERTIFICATE` holds (in
 * base64, as drone-buildx-acr decodes it into the file Azure's SDK reads), and the client assertion made
 * with it, a JWT signed with the certificate's private key
 * (https://learn.microsoft.com/entra/identity-platform/certificate-credentials): header `alg` RS256, `typ`
 * JWT, `x5t` the base64url SHA-1 thumbprint of the certificate's DER; claims `aud` the token endpoint,
 * `iss` = `sub` = the client id, a unique `jti`, `nbf`/`iat` now and `exp` ten minutes later.
 *
 * RSA keys only: Azure AD accepts no ECDSA-signed assertion (AADSTS5002738 "'ES256' is not a supported
 * signature algorithm"; Azure/azure-sdk-for-net#6521), and Azure's SDK for Go, which the plugin uses,
 * signs with RSA keys only. Node's crypto does the signing: no JWT library is needed for one signature.
 */
import { createHash, createPrivateKey, type KeyObject, randomUUID, sign, X509Certificate } from "node:crypto";

interface ClientCertificate {
  certificate: X509Certificate;
  privateKey: KeyObject;
  /** The base64url SHA-1 thumbprint of the certificate's DER encoding: the assertion's `x5t`. */
  x5t: string;
}

type ParsedClientCertificate =
  | { ok: true; value: ClientCertificate }
  | { ok: false /** Why the value is no usable certificate, quoting none of it. */; reason: string };

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PRIVATE_KEY_LABELS = new Set(["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"]);
/** How to make the value from a PKCS#12 file, for messages. */
const CONVERT_HINT = "openssl pkcs12 -in cert.pfx -nodes | base64 -w0";

/** The PEM text of the value: as given when it is PEM, else decoded from base64. */
function pemText(value: string): string | { reason: string } {
  const trimmed = value.trim();
  if (trimmed.startsWith("-----BEGIN ")) return trimmed;
  const compact = trimmed.replace(/\s+/g, "");
  if (compact === "" || compact.length % 4 !== 0 || !BASE64.test(compact)) {
    return { reason: "is neither PEM nor base64 of PEM" };
  }
  const decoded = Buffer.from(compact, "base64");
  const text = decoded.toString("utf8");
  if (!text.includes("-----BEGIN ")) {
    // A DER or PKCS#12 file starts with an ASN.1 SEQUENCE.
    return decoded[0] === 0x30
      ? {
          reason: `is base64 of a binary file (PKCS#12 or DER?), not of PEM: convert it, e.g. ${CONVERT_HINT}`,
        }
      : { reason: "is base64, but of something that is not PEM" };
  }
  return text;
}

/** The certificate and private key in `value` (base64 PEM, or PEM), checked to belong together. */
export function parseClientCertificate(value: string): ParsedClientCertificate {
  const text = pemText(value);
  if (typeof text !== "string") return { ok: false, reason: text.reason };
  const certificates: X509Certificate[] = [];
  let keyPem: string | undefined;
  let encrypted = false;
  for (const match of text.matchAll(PEM_BLOCK)) {
    const [block, label = ""] = match;
    if (label === "CERTIFICATE") {
      try {
        certificates.push(new X509Certificate(block));
      } catch {
        return { ok: false, reason: "holds a CERTIFICATE block that is not a certificate" };
      }
    } else if (label === "ENCRYPTED PRIVATE KEY" || /Proc-Type: 4,ENCRYPTED/.test(block)) {
      encrypted = true;
    } else if (PRIVATE_KEY_LABELS.has(label)) {
      keyPem ??= block;
    }
  }
  if (certificates.length === 0) {
    return {
      ok: false,
      reason: "holds no certificate: give the PEM with the certificate and its private key",
    };
  }
  if (!keyPem) {
    return {
      ok: false,
      reason: encrypted
        ? `holds an encrypted private key, and no password can be given (the plugin gives Azure's SDK none either): give the key unencrypted, e.g. ${CONVERT_HINT}`
        : "holds no private key: give the PEM with the certificate and its private key",
    };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(keyPem);
  } catch {
    return { ok: false, reason: "holds a private key that cannot be read" };
  }
  if (privateKey.asymmetricKeyType !== "rsa") {
    return {
      ok: false,
      reason: `holds a${privateKey.asymmetricKeyType === "ec" ? "n EC" : ` ${privateKey.asymmetricKeyType}`} key: Azure AD takes certificate credentials with RSA keys only (RS256); make the service principal's certificate with an RSA key`,
    };
  }
  const certificate = certificates.find((candidate) => candidate.checkPrivateKey(privateKey));
  if (!certificate) {
    return { ok: false, reason: "holds no certificate that matches its private key" };
  }
  const x5t = createHash("sha1").update(certificate.raw).digest("base64url");
  return { ok: true, value: { certificate, privateKey, x5t } };
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64url");

interface AssertionClaims {
  clientId: string;
  /** The token endpoint the assertion is for. */
  audience: string;
  /** Default: now. */
  now?: Date;
  /** Default: a random UUID. */
  id?: string;
  /** Default: 600 (Azure AD wants a short-lived assertion: five to ten minutes). */
  lifetimeSeconds?: number;
}

/** The signed client assertion (a compact JWS, RS256). */
export function clientAssertion(credential: ClientCertificate, claims: AssertionClaims): string {
  const issuedAt = Math.floor((claims.now ?? new Date()).getTime() / 1000);
  const header = { alg: "RS256", typ: "JWT", x5t: credential.x5t };
  const payload = {
    aud: claims.audience,
    iss: claims.clientId,
    sub: claims.clientId,
    jti: claims.id ?? randomUUID(),
    nbf: issuedAt,
    iat: issuedAt,
    exp: issuedAt + (claims.lifetimeSeconds ?? 600),
  };
  const signingInput = `${base64url(header)}.${base64url(payload)}`;
  // RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 section 3.3), Node's default padding for an RSA key.
  const signature = sign("sha256", Buffer.from(signingInput, "ascii"), credential.privateKey);
  return `${signingInput}.${signature.toString("base64url")}`;
}
