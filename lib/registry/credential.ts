/**
 * What every registry-facing part asks of the credentials layer: "what credentials for registry host H".
 * The registry client, the daemon path and the build's temporary docker config all use this one shape.
 * It lives beside the registry client, which asks the question; auth/ answers it (resolve.ts), so the
 * registry layer needs nothing from the credentials layer above it.
 */
export interface Credential {
  username?: string;
  /** secret */
  password?: string;
  /** An OAuth2 refresh token (docker config `identitytoken`), exchanged at the token server. secret */
  identityToken?: string;
  /** A bearer token to send as is (docker config `registrytoken`). secret */
  registryToken?: string;
}

/**
 * Looks up credentials for a registry host as it appears in an image reference (`host[:port]`,
 * Docker Hub as `docker.io`). Resolves to undefined for anonymous access.
 */
export type CredentialSource = (host: string) => Promise<Credential | undefined>;

/** A source that answers with nothing: anonymous access everywhere. */
export const anonymous: CredentialSource = async () => undefined;
