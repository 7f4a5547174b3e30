/**
 * Settings of the Drone/Harness buildx plugin that this tool accepts and does not act on: mostly the
 * options of the Docker daemon the plugin starts inside its container (this tool uses the runner's engine
 * and starts none). A pipeline that sets them keeps working, and the run says that they had no effect.
 */
import { environmentVariables, type RawLayer } from "./layers.js";

interface IgnoredSetting {
  /** Variables, aliases included (drone-buildx `app.go`). */
  env: readonly string[];
  /** What to do instead; ends the warning. */
  instead: string;
  /**
   * Values that ask for nothing this tool would have to do (e.g. `false` for a switch that is off by
   * default): no warning for them.
   */
  inert?: (value: string) => boolean;
}

const isFalse = (value: string) => ["false", "0", "f"].includes(value.trim().toLowerCase());
const isTrue = (value: string) => ["true", "1", "t"].includes(value.trim().toLowerCase());
const daemon = "this tool starts no Docker daemon and uses the runner's engine";

const IGNORED_SETTINGS: readonly IgnoredSetting[] = [
  {
    env: ["PLUGIN_MIRROR", "DOCKER_PLUGIN_MIRROR"],
    instead: `configure the engine's registry mirror (${daemon})`,
  },
  { env: ["PLUGIN_STORAGE_DRIVER"], instead: `configure the engine's storage driver (${daemon})` },
  { env: ["PLUGIN_STORAGE_PATH"], instead: `configure the engine's data root (${daemon})` },
  { env: ["PLUGIN_BIP"], instead: `configure the engine's bridge (${daemon})` },
  { env: ["PLUGIN_MTU"], instead: `configure the engine's MTU (${daemon})` },
  { env: ["PLUGIN_CUSTOM_DNS"], instead: `configure the engine's DNS (${daemon})` },
  { env: ["PLUGIN_CUSTOM_DNS_SEARCH"], instead: `configure the engine's DNS search domains (${daemon})` },
  { env: ["PLUGIN_IPV6"], instead: `configure IPv6 on the engine (${daemon})`, inert: isFalse },
  {
    env: ["PLUGIN_DEBUG", "DOCKER_LAUNCH_DEBUG"],
    instead: `for this tool's debug lines set BUILDX_STEP_DEBUG=true (${daemon})`,
    inert: isFalse,
  },
  // true is what this tool always does: only false asks for something it will not do.
  { env: ["PLUGIN_DAEMON_OFF"], instead: daemon, inert: isTrue },
  {
    env: ["PLUGIN_DAEMON_RETRY_COUNT"],
    instead: `the engine is asked once, with a deadline (${daemon})`,
  },
  {
    env: ["PLUGIN_PURGE"],
    instead: "images are not removed after the build; prune on the runner",
    inert: isFalse,
  },
  {
    env: ["PLUGIN_SQUASH"],
    instead: "BuildKit has no --squash; use a multi-stage Dockerfile",
    inert: isFalse,
  },
  { env: ["PLUGIN_COMPRESS"], instead: "BuildKit sends the context incrementally", inert: isFalse },
  { env: ["DRONE_CARD_PATH"], instead: "this tool writes no Drone card; see --json or PLUGIN_METADATA_FILE" },
  {
    env: ["PLUGIN_CACHE_METRICS_FILE"],
    instead: "cache metrics are not written; see PLUGIN_METADATA_FILE for buildx's metadata",
  },
  {
    env: ["PLUGIN_USE_LOADED_BUILDKIT", "PLUGIN_BUILDKIT_VERSION", "PLUGIN_BUILDKIT_ASSETS_DIR"],
    instead:
      "builders use the BuildKit of the runner's buildx; set PLUGIN_BUILDER_DRIVER_OPTS image=... to choose one",
  },
  {
    env: ["PLUGIN_BUILDKIT_TLS_HANDSHAKE_TIMEOUT", "PLUGIN_BUILDKIT_RESPONSE_HEADER_TIMEOUT"],
    instead: "the runner's buildx uses its own timeouts",
  },
  {
    env: [
      "PLUGIN_HARNESS_SELF_HOSTED_S3_ACCESS_KEY",
      "PLUGIN_HARNESS_SELF_HOSTED_S3_SECRET_KEY",
      "PLUGIN_HARNESS_SELF_HOSTED_GCP_JSON_KEY",
      "PLUGIN_HARNESS_SELF_HOSTED_AZURE_ACCOUNT_KEY",
      "PLUGIN_HARNESS_SELF_HOSTED_AZURE_TENANT_ID",
      "PLUGIN_HARNESS_SELF_HOSTED_AZURE_CLIENT_ID",
      "PLUGIN_HARNESS_SELF_HOSTED_AZURE_CLIENT_SECRET",
      "PLUGIN_HARNESS_SELF_HOSTED_AZURE_OIDC_TOKEN",
    ],
    instead: "self-hosted cache credentials are not used; give cache credentials in PLUGIN_CACHE_FROM/TO",
  },
  {
    env: ["PLUGIN_BUILDKIT_INHERIT_AUTH"],
    instead:
      "a created builder does not get the runner's AWS credentials; give the cache its credentials in PLUGIN_CACHE_FROM/TO",
    inert: isFalse,
  },
  {
    env: ["PLUGIN_SNAPSHOT_MODE", "PLUGIN_ENABLE_CACHE", "PLUGIN_CACHE_REPO"],
    instead:
      "these are kaniko's settings (Harness's Kubernetes steps); use PLUGIN_CACHE_FROM/PLUGIN_CACHE_TO for buildx's cache",
  },
  {
    env: [
      "PLUGIN_PROJECT_NUMBER",
      "PLUGIN_POOL_ID",
      "PLUGIN_PROVIDER_ID",
      "PLUGIN_SERVICE_ACCOUNT_EMAIL",
      "PLUGIN_WORKLOAD_IDENTITY",
    ],
    instead:
      "Google workload identity is not exchanged for a token here; get an access token in an earlier step and pass it as ACCESS_TOKEN, or give PLUGIN_JSON_KEY",
    inert: isFalse,
  },
  {
    env: ["PLUGIN_DAEMON_REGISTRY", "DAEMON_REGISTRY"],
    instead: "the artifact file's registry URL is PLUGIN_ARTIFACT_REGISTRY (default: PLUGIN_REGISTRY)",
  },
];

export const IGNORED_ENV_NAMES: readonly string[] = IGNORED_SETTINGS.flatMap((s) => s.env);

/** The warning for each ignored setting that `raw` sets to a value that asks for something. */
export function ignoredWarnings(raw: RawLayer): string[] {
  const warnings: string[] = [];
  for (const setting of IGNORED_SETTINGS) {
    for (const name of setting.env) {
      const value = raw.get(name);
      if (!value) continue;
      const values = Array.isArray(value.raw) ? value.raw : [value.raw];
      if (setting.inert && values.every(setting.inert)) continue;
      warnings.push(`${value.origin} is accepted for compatibility and ignored: ${setting.instead}`);
    }
  }
  return warnings;
}

/** The environment's ignored settings as a raw layer (empty variables count as unset). */
export function ignoredEnvironment(env: NodeJS.ProcessEnv): RawLayer {
  return environmentVariables(env, IGNORED_ENV_NAMES);
}
