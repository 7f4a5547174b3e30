/**
 * Build args whose values come from the run's environment: the proxies (http_proxy, https_proxy, no_proxy)
 * and the names in PLUGIN_BUILD_ARGS_FROM_ENV, chosen as the plugin chooses them (drone-buildx docker.go
 * `addProxyBuildArgs`, `addProxyValue`, `hasProxyBuildArg`):
 * - each name is looked up as written, in upper case, then as HARNESS_ + upper case (plugin-env.ts);
 * - a found value gives two build args, `name` and `NAME`;
 * - none is added when a build arg already starts with `name`, `NAME` or `HARNESS_NAME` (the plugin's prefix
 *   match, against the user's build args and the ones added before);
 * - the order is the user's build args, the proxies, then PLUGIN_BUILD_ARGS_FROM_ENV.
 *
 * Unlike the plugin, which writes `name=value` on docker's command line, the values stay off argv: buildx
 * gets `--build-arg NAME` and reads NAME from its environment
 * (https://docs.docker.com/reference/cli/docker/buildx/build/#build-arg), which `env` here provides. The
 * command line in the log then shows names only. Pure.
 */
import type { Settings } from "../config/settings.js";
import { urlCredentialSecrets } from "../url-credentials.js";
import { PROXY_VARIABLES, pluginEnvValue } from "./plugin-env.js";

export interface EnvBuildArgs {
  /** `--build-arg NAME` for each, after the user's build args. */
  names: string[];
  /** NAME=value for docker buildx's environment. */
  env: Record<string, string>;
  /** Lines for the log: where a value came from when it is not the name itself. */
  notes: string[];
  /** Credentials found in proxy URLs, to mask in the build's output. */
  secrets: string[];
}

export function envBuildArgs(
  settings: Pick<Settings, "buildArgs" | "buildArgsFromEnv">,
  env: NodeJS.ProcessEnv,
): EnvBuildArgs {
  const result: EnvBuildArgs = { names: [], env: {}, notes: [], secrets: [] };
  // What the plugin's prefix match compares against: `KEY=VALUE` for every build arg so far.
  const present = [...settings.buildArgs];

  const add = (name: string, proxy: boolean) => {
    if (name === "") return;
    const found = pluginEnvValue(env, name);
    if (!found) return;
    const upper = name.toUpperCase();
    const prefixes = [name, upper, `HARNESS_${upper}`];
    if (present.some((arg) => prefixes.some((prefix) => arg.startsWith(prefix)))) return;
    // `name` and `NAME` are one build arg when the name is upper case already.
    for (const argName of new Set([name, upper])) {
      result.names.push(argName);
      result.env[argName] = found.value;
      present.push(`${argName}=${found.value}`);
    }
    if (found.from !== name) result.notes.push(`build arg ${name}: the value of ${found.from}`);
    if (proxy) result.secrets.push(...urlCredentialSecrets(found.value));
  };

  for (const name of PROXY_VARIABLES) add(name, true);
  for (const name of settings.buildArgsFromEnv) add(name.trim(), false);
  return result;
}
