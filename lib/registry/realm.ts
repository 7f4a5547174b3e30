/**
 * Where a login may go. A Bearer challenge names a token realm, a URL of the registry's choosing; Basic
 * credentials (and a refresh token) go there only over https, or over plain http when the registry
 * itself answered on plain http and the realm is on the same host (a registry on a private network or
 * loopback, where the credentials already travel in clear). go-containerregistry refuses an http realm
 * for a secure registry the same way (transport/bearer.go, validateRealmURL).
 * https://distribution.github.io/distribution/spec/auth/token/
 */
import { ProtocolError } from "../protocol-error.js";
import { describeUrl, isHttp } from "./origin.js";

/**
 * Refuses a realm the login must not be sent to. Not bad input (exit 1, not 2): the realm is the registry's
 * answer, not the user's input, and no setting of this step makes sending the password there safe.
 */
export function checkRealm(realm: URL, registry: URL, host: string, withCredentials: boolean): void {
  if (!isHttp(realm)) {
    throw new ProtocolError(
      "unsafe-url",
      `the registry ${host} names the token realm ${describeUrl(realm)}, which is not an http(s) URL; refused`,
    );
  }
  if (!withCredentials || realm.protocol === "https:") return;
  if (registry.protocol === "http:" && realm.hostname === registry.hostname) return;
  throw new ProtocolError(
    "unsafe-url",
    `the registry ${host} (${registry.origin}) asks for a login at the token realm ${describeUrl(realm)}, which is plain HTTP ${registry.protocol === "https:" ? "although the registry uses https" : "on another host than the registry"}: the password would travel unencrypted to a host of the registry's choosing, so it was not sent. The registry's token service must use https`,
  );
}
