/**
 * The engine's `X-Registry-Auth` header: base64url of a JSON AuthConfig, sent with each push so the
 * engine logs in for that request only (no `docker login`, nothing written to a docker config).
 * https://docs.docker.com/reference/api/engine/version/v1.45/#section/Authentication
 */
import type { Credential } from "../registry/credential.js";

/** The AuthConfig fields the engine reads (api/types/registry.AuthConfig). */
interface EngineAuthConfig {
  username?: string;
  password?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
}

/** Pure: the AuthConfig for a credential at `serverAddress` (the registry host of the image name); empty for anonymous. */
export function engineAuthConfig(
  credential: Credential | undefined,
  serverAddress: string,
): EngineAuthConfig {
  if (!credential) return {};
  if (credential.registryToken)
    return { registrytoken: credential.registryToken, serveraddress: serverAddress };
  if (credential.identityToken) {
    return {
      username: credential.username,
      identitytoken: credential.identityToken,
      serveraddress: serverAddress,
    };
  }
  if (credential.username || credential.password) {
    return {
      username: credential.username ?? "",
      password: credential.password ?? "",
      serveraddress: serverAddress,
    };
  }
  return {};
}

/**
 * Pure: the header value. The engine (26+) refuses a push without the header ("missing X-Registry-Auth"),
 * so anonymous access sends `{}`, as the docker CLI does.
 */
export function registryAuthHeader(credential: Credential | undefined, serverAddress: string): string {
  // Go's base64.URLEncoding, which the engine decodes with, expects the `=` padding that Node's
  // "base64url" leaves out: URL-safe alphabet, padding kept.
  return Buffer.from(JSON.stringify(engineAuthConfig(credential, serverAddress)))
    .toString("base64")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
}
