/**
 * A service principal's certificate credential as an Azure connector holds it: a self-signed certificate and
 * its private key in one PEM, and that PEM in base64 (what CLIENT_CERTIFICATE carries). Made with openssl,
 * which also gives the certificate's SHA-1 fingerprint: an independent check of the assertion's x5t.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface ClientCertificateFiles {
  /** Certificate, then private key, in PEM. */
  pem: string;
  /** The certificate alone, in PEM. */
  certificatePem: string;
  /** The private key alone, in PEM (PKCS#8; encrypted with `encrypted`). */
  keyPem: string;
  /** base64 of `pem`: the value of CLIENT_CERTIFICATE. */
  base64: string;
  /** The certificate's SHA-1 fingerprint as openssl prints it, in hex without colons. */
  sha1Hex: string;
}

/** Makes a certificate with an RSA (2048) or EC (P-256) key in `dir`, named `name`. */
export function makeClientCertificate(
  dir: string,
  name: string,
  options: { keyType?: "rsa" | "ec"; encrypted?: boolean } = {},
): ClientCertificateFiles {
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" }).toString();
  const keyFile = join(dir, `${name}-key.pem`);
  const certFile = join(dir, `${name}-cert.pem`);
  const newKey =
    options.keyType === "ec"
      ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
      : ["-newkey", "rsa:2048"];
  run([
    "req",
    "-x509",
    ...newKey,
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    keyFile,
    "-out",
    certFile,
  ]);
  let keyPem = readFileSync(keyFile, "utf8");
  if (options.encrypted) {
    keyPem = run(["pkcs8", "-topk8", "-in", keyFile, "-v2", "aes-256-cbc", "-passout", "pass:key-password"]);
  }
  const certificatePem = readFileSync(certFile, "utf8");
  const pem = `${certificatePem}${keyPem}`;
  const fingerprint = run(["x509", "-in", certFile, "-noout", "-fingerprint", "-sha1"]);
  const sha1Hex = (fingerprint.split("=")[1] ?? "").trim().replace(/:/g, "").toLowerCase();
  return { pem, certificatePem, keyPem, base64: Buffer.from(pem).toString("base64"), sha1Hex };
}
