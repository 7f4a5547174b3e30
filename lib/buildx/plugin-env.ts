/**
 * How the plugin reads a variable it forwards into a build (proxies, PLUGIN_BUILD_ARGS_FROM_ENV): the name
 * as written, then in upper case, then `HARNESS_` + the upper-case name (Harness exports its delegate's
 * proxy as HARNESS_HTTP_PROXY ...); the first non-empty value wins. drone-buildx `getProxyValue`:
 * https://github.com/drone-plugins/drone-buildx/blob/master/docker.go
 * Pure functions.
 */

/** The proxy variables the plugin forwards, in its order (`addProxyBuildArgs`). */
export const PROXY_VARIABLES = ["http_proxy", "https_proxy", "no_proxy"] as const;

interface PluginEnvValue {
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
