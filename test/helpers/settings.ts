import type { ResolvedSettings, SettingSource, Settings } from "../../lib/config/settings.js";

/** Settings as the resolver gives them with nothing set (the plugin's defaults), with `overrides` on top. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    dryRun: false,
    pushOnly: false,
    outputFormat: "docker",
    load: false,
    pushVia: "registry",
    pushTimeout: "30m",
    tags: ["latest"],
    autoTag: false,
    registry: "https://index.docker.io/v1/",
    insecure: false,
    dockerfile: "Dockerfile",
    context: ".",
    buildArgs: [],
    buildArgsNew: [],
    multipleBuildArgs: false,
    buildArgsFromEnv: [],
    secretsFromEnv: [],
    secretsFromFile: [],
    labels: [],
    labelSchema: [],
    autoLabel: true,
    addHost: [],
    noCache: false,
    pullImage: true,
    quiet: false,
    platforms: [],
    buildxOptions: [],
    cacheFrom: [],
    cacheTo: [],
    cachePathStyle: false,
    cacheTlsInsecure: false,
    bakeOptions: [],
    builderDriverOpts: [],
    builderDriverOptsNew: [],
    azureAuthorityHost: "https://login.microsoftonline.com",
    region: "us-east-1",
    createRepository: false,
    scanOnPush: false,
    run: {},
    json: false,
    debug: false,
    ...overrides,
  };
}

/** Resolved settings whose `explicit` keys count as set by the user (env), the rest as defaults. */
export function testResolved(
  overrides: Partial<Settings> = {},
  explicit: (keyof Settings)[] = Object.keys(overrides) as (keyof Settings)[],
): ResolvedSettings {
  const settings = testSettings(overrides);
  const sources: Partial<Record<keyof Settings, SettingSource>> = {};
  for (const key of Object.keys(settings) as (keyof Settings)[]) {
    sources[key] = explicit.includes(key)
      ? { kind: "env", name: `PLUGIN_${key.toUpperCase()}` }
      : { kind: "default" };
  }
  return { settings, sources, warnings: [] };
}
