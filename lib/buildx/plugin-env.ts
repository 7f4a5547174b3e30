/**
 * How the plugin reads a variable it forwards into a build (proxies, PLUGIN_BUILD_ARGS_FROM_ENV): the name
 * as written, then in upper case, then `HARNESS_` + the upper-case name (Harness exports its delegate's
 * proxy as HARNESS_HTTP_PROXY ...); the first non-empty value wins. drone-buildx `getProxyValue`:
 * https://github.com/drone-plugins/drone-buildx/blob/master/docker.go
 * Pure functions.
 */

/** The proxy variables the plugin forwards, in its order (`addProxyBuildArgs`). */
export const PROXY_VARIABLES = ["http_proxy", "https_proxy", "no_proxy"] as const;
export type ProxyVariable = (typeof PROXY_VARIABLES)[number];

export interface PluginEnvValue {
  value: string;
  /** The variable the value came from (`http_proxy`, `HTTP_PROXY` or `HARNESS_HTTP_PROXY`). */
  from: string;
}

/** The value of `name` as the plugin looks it up; undefined when every spelling is unset or empty. */
export function pluginEnvValue(env: NodeJS.ProcessEnv, name: string): PluginEnvValue | undefined {
  const upper = name.toUpperCase();
  for (const candidate of [name, upper, `HARNESS_${upper}`]) {
    const value = env[candidate];
    if (value !== undefined && value !== "") return { value, from: candidate };
  }
  return undefined;
}

/** The authority of a proxy URL (`[user[:pass]@]host[:port]`); the scheme is optional, as Go's proxy reading allows. */
function authority(url: string): string {
  const withoutScheme = url.trim().replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  return withoutScheme.split(/[/?#]/)[0] ?? "";
}

/** Whether a proxy URL carries credentials (`http://user:pass@proxy:3128`). */
export function hasUrlCredentials(url: string): boolean {
  return authority(url).includes("@");
}

/**
 * The secret parts of a proxy URL's credentials, to mask in the log: the password, or the user when there is
 * no password (a token written as the user, `http://TOKEN@proxy`). Decoded, as the mask also matches the
 * URL-encoded spelling.
 */
export function urlCredentialSecrets(url: string): string[] {
  const auth = authority(url);
  const at = auth.lastIndexOf("@");
  if (at < 0) return [];
  const userInfo = auth.slice(0, at);
  const colon = userInfo.indexOf(":");
  const secret = colon < 0 ? userInfo : userInfo.slice(colon + 1);
  if (secret === "") return [];
  try {
    const decoded = decodeURIComponent(secret);
    return decoded === secret ? [secret] : [secret, decoded];
  } catch {
    return [secret];
  }
}
