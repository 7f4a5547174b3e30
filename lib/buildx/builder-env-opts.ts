/**
 * Driver options a created builder gets from the run's environment, after the user's: the proxies
 * (`env.http_proxy=…`, `env.https_proxy=…`, `env.no_proxy=…`, and `network=host` beside an http(s) proxy, so
 * that a proxy on the runner's loopback is reachable) and `env.HARNESS_CA_PATH=…`, as the plugin adds them to
 * `docker buildx create` (drone-buildx buildx.go `appendProxyDriverOpts`, `appendHarnessCADriverOpts`;
 * https://github.com/drone-plugins/drone-buildx/blob/master/buildx.go). They set the environment of the
 * BuildKit container, which BuildKit's own pulls and pushes use. Pure.
 *
 * Where this differs from the plugin, and why:
 * - Only the docker-container driver gets them. buildx's remote driver accepts no `env.*` or `network`
 *   option, and the kubernetes driver no `network` (nor `env.*` before buildx 0.28): `docker buildx create`
 *   fails with "invalid driver option" (each driver's factory.go in docker/buildx; checked with buildx
 *   0.13.1), so the
 *   plugin's remote and kubernetes builders cannot be created at all while a proxy is set.
 * - A proxy URL with credentials (`http://user:pass@proxy`) is left out, with a warning: driver options
 *   are on `docker buildx create`'s command line (visible to every process) and stored in buildx's builder
 *   file, and secrets go in neither.
 * - An option the user's driver options already set (`network=…`, `env.http_proxy=…`) is not added again:
 *   buildx keeps the last of two, which in the plugin is its own, not the user's.
 * - `env.HARNESS_CA_CERT=<the CA file's content>` is not passed. buildx reads each `--driver-opt` as one CSV
 *   record, which ends at the first line break: a PEM file arrives as `-----BEGIN CERTIFICATE-----` alone
 *   (buildx 0.13.1 stores `env.X="line1"` for `env.X=line1\nline2`), so the plugin's option cannot work. A
 *   bundle could also exceed the 128 KiB a single argument may have. A registry's CA reaches a created
 *   builder through PLUGIN_REGISTRY_CA instead (buildkitd.toml, which buildx copies into the builder).
 */

import { hasUrlCredentials } from "../url-credentials.js";
import type { CreatedDriver } from "./builder-args.js";
import { csvField, csvFields } from "./csv.js";
import { pluginEnvValue } from "./plugin-env.js";

interface BuilderEnvOpts {
  /** `--driver-opt` values, after the user's. */
  opts: string[];
  warnings: string[];
  notes: string[];
}

/** The option keys (`image`, `network`, `env.http_proxy`) the user's driver options set. */
export function driverOptKeys(opts: readonly string[]): Set<string> {
  const keys = new Set<string>();
  for (const opt of opts) {
    for (const field of csvFields(opt)) {
      const at = field.indexOf("=");
      keys.add((at < 0 ? field : field.slice(0, at)).trim());
    }
  }
  return keys;
}

export function builderEnvOpts(
  driver: CreatedDriver,
  env: NodeJS.ProcessEnv,
  userOpts: readonly string[],
): BuilderEnvOpts {
  const result: BuilderEnvOpts = { opts: [], warnings: [], notes: [] };
  const proxies = (["http_proxy", "https_proxy", "no_proxy"] as const)
    .map((name) => ({ name, found: pluginEnvValue(env, name) }))
    .filter((proxy) => proxy.found !== undefined);
  const caPath = env.HARNESS_CA_PATH || undefined;
  if (driver !== "docker-container") {
    const names = [...proxies.map((proxy) => proxy.name), ...(caPath ? ["HARNESS_CA_PATH"] : [])];
    if (names.length > 0) {
      result.notes.push(
        `${names.join(", ")}: not passed to the builder: buildx's ${driver} driver takes no env.* or network driver options (configure them where that BuildKit runs)`,
      );
    }
    return result;
  }

  const userKeys = driverOptKeys(userOpts);
  const add = (key: string, value: string) => {
    if (userKeys.has(key)) {
      result.notes.push(`the builder's driver options set ${key}: kept, not replaced from the environment`);
      return false;
    }
    result.opts.push(csvField(`${key}=${value}`));
    return true;
  };
  let httpProxyAdded = false;
  for (const { name, found } of proxies) {
    if (!found) continue;
    if (name !== "no_proxy" && hasUrlCredentials(found.value)) {
      result.warnings.push(
        `${found.from} holds credentials, so it is not given to the builder (driver options are on docker buildx create's command line and in buildx's builder store): BuildKit's own pulls and pushes go without this proxy; RUN steps still get it as a build arg`,
      );
      continue;
    }
    const added = add(`env.${name}`, found.value);
    if (added && name !== "no_proxy") httpProxyAdded = true;
  }
  // The plugin's reason: a proxy on the runner's loopback (a local tinyproxy, a CNTLM) is reachable only
  // from the host's network.
  if (httpProxyAdded) add("network", "host");
  if (caPath) add("env.HARNESS_CA_PATH", caPath);
  return result;
}
