/**
 * Credentials written into a URL's authority (`http://user:password@proxy:3128`, `http://TOKEN@proxy`): the
 * proxy variables carry them this way. One reading for the build's proxies (lib/buildx) and the registry
 * client's (lib/registry), so both mask the same parts. Pure functions.
 */

/** The authority of a URL (`[user[:pass]@]host[:port]`); the scheme is optional, as Go's proxy reading allows. */
function authority(url: string): string {
  const withoutScheme = url.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  return withoutScheme.split(/[/?#]/)[0] ?? "";
}

/** Whether a URL carries credentials (`http://user:pass@proxy:3128`). */
export function hasUrlCredentials(url: string): boolean {
  return authority(url).includes("@");
}

/**
 * The secret parts of a URL's credentials, to mask in the log: the password (and `user:password` whole, as
 * a Basic header holds the pair), or the user when there is no password (a token written as the user,
 * `http://TOKEN@proxy`). Decoded too, as the mask also matches the URL-encoded spelling.
 */
export function urlCredentialSecrets(url: string): string[] {
  const auth = authority(url);
  const at = auth.lastIndexOf("@");
  if (at < 0) return [];
  const userInfo = auth.slice(0, at);
  const colon = userInfo.indexOf(":");
  const secret = colon < 0 ? userInfo : userInfo.slice(colon + 1);
  if (secret === "") return [];
  const secrets = colon < 0 ? [secret] : [userInfo, secret];
  try {
    const decoded = decodeURIComponent(secret);
    if (decoded !== secret) secrets.push(decoded);
  } catch {
    // Not percent-encoded: the raw form is masked.
  }
  return secrets;
}

/** `scheme://user:password@` anywhere in a text: the user-info of each such URL. */
const USER_INFO_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/([^/?#@\s]+)@/gi;

/**
 * The passwords written into URLs anywhere in a setting's value (`NPM_URL=https://ci:token@registry/`, a
 * cache or builder address), as `user:password` and the password alone (decoded too): `config` shows such
 * values with `***@`, and the run's log must not show them either. A user without a password
 * (`ssh://git@host`) is a name, not masked.
 */
export function urlPasswordsIn(text: string): string[] {
  const secrets: string[] = [];
  for (const match of text.matchAll(USER_INFO_IN_TEXT)) {
    const userInfo = match[1] ?? "";
    const colon = userInfo.indexOf(":");
    if (colon < 0 || colon === userInfo.length - 1) continue;
    secrets.push(...urlCredentialSecrets(`x://${userInfo}@`));
  }
  return secrets;
}
