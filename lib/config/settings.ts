/**
 * The resolved settings of one run: a plain typed object, made once by `resolveSettings` (lib/config)
 * from defaults, the stage settings file, the environment and flags, and read by every mode.
 *
 * Names follow the Drone/Harness buildx plugin's settings (`PLUGIN_<NAME>`), in camelCase.
 */
export type OutputFormat = "docker" | "oci";
export type PushVia = "registry" | "daemon";

/** The run's context from the CI system (`DRONE_*`, `HARNESS_*`), used by auto tags and auto labels. */
export interface RunContext {
  commitSha?: string;
  commitRef?: string;
  commitBranch?: string;
  commitTag?: string;
  buildNumber?: string;
  buildCreated?: string;
  repoLink?: string;
  repoBranch?: string;
  remoteUrl?: string;
  stepName?: string;
}

export interface Settings {
  // -- mode
  /** `PLUGIN_DRY_RUN` = `PLUGIN_NO_PUSH`: build, do not push. */
  dryRun: boolean;
  /** `PLUGIN_PUSH_ONLY`: no build; push the image in `sourceTarPath` (or `sourceImage`). */
  pushOnly: boolean;
  /** `PLUGIN_TAR_PATH` = `PLUGIN_DESTINATION_TAR_PATH`: with dry run, write the image here. */
  tarPath?: string;
  /** `PLUGIN_BUILDX_OUTPUT_FORMAT`. Whether the user set it is in the provenance. */
  outputFormat: OutputFormat;
  /** `PLUGIN_BUILDX_LOAD`: with dry run, load the image into the engine. */
  load: boolean;
  /** `PLUGIN_SOURCE_TAR_PATH`: push-only's tarball (maybe compressed), OCI layout folder, or `-` (stdin). */
  sourceTarPath?: string;
  /** `PLUGIN_SOURCE_IMAGE`: push-only's image (inside the tarball, or in the engine). */
  sourceImage?: string;
  /**
   * `PLUGIN_SOURCE_PLATFORM` (`--platform` of `push`): push-only pushes this platform's manifest of the
   * image, at its own digest, instead of the whole image.
   */
  sourcePlatform?: string;
  /** `PLUGIN_EXPECTED_DIGEST`: push-only refuses a tarball whose image digest differs. */
  expectedDigest?: string;
  /** `PLUGIN_PUSH_VIA`: push-only through the registry API (default) or through the engine. */
  pushVia: PushVia;
  /**
   * `PLUGIN_PUSH_TIMEOUT`: the deadline of a push-only run through the registry API, as written (`30m`,
   * `90s`, `1h`, seconds); checked by validation, read with `parseDuration`.
   */
  pushTimeout: string;

  // -- signing
  /**
   * `PLUGIN_SIGN_KEY` (`--sign-key`): after every push, sign the pushed digest with this key, as cosign
   * does. The path of a cosign key or a PEM ECDSA P-256 key, or (from the environment only) the PEM itself.
   */
  signKey?: string;
  /** `PLUGIN_SIGN_PASSWORD` = `COSIGN_PASSWORD`: the password of an encrypted cosign key. secret */
  signPassword?: string;
  /** `PLUGIN_ATTEST_PREDICATE`: a file attested about the pushed digest (in-toto statement in DSSE). */
  attestPredicate?: string;
  /** `PLUGIN_ATTEST_TYPE`: cosign's predicate type name (`vuln`, `spdxjson`, ...) or a URI. */
  attestType: string;

  // -- image
  /** `PLUGIN_REPO`: the image name the tags apply to (`registry/name` or `name`). */
  repo?: string;
  /**
   * `PLUGIN_TAG` = `PLUGIN_TAGS` (or the `.tags` file in the working folder when neither is set), after
   * auto tags: with `autoTag` these are the auto tags.
   */
  tags: string[];
  /** `PLUGIN_AUTO_TAG` = `PLUGIN_DEFAULT_TAGS`. */
  autoTag: boolean;
  /** `PLUGIN_AUTO_TAG_SUFFIX` = `PLUGIN_DEFAULT_SUFFIX`. */
  autoTagSuffix?: string;

  // -- registry and login
  /** `PLUGIN_REGISTRY` (`DOCKER_REGISTRY`). */
  registry: string;
  username?: string;
  /** secret */
  password?: string;
  email?: string;
  /** `PLUGIN_CONFIG`: docker config JSON, or a path to one. secret */
  config?: string;
  /** `PLUGIN_REGISTRY_TYPE`: e.g. `ECR`. */
  registryType?: string;
  /** `PLUGIN_ARTIFACT_REGISTRY` = `ARTIFACT_REGISTRY`: the artifact file's registryUrl. */
  artifactRegistry?: string;
  /** `PLUGIN_LOCATION`: Google Artifact Registry's location (`LOCATION-docker.pkg.dev`). */
  location?: string;
  /** `PLUGIN_JSON_KEY` (`GCR_JSON_KEY`, `GOOGLE_CREDENTIALS`): a GCP service account key. secret */
  jsonKey?: string;
  /** `ACCESS_TOKEN`: a GCP OAuth access token. secret */
  accessToken?: string;
  /** ACR's service principal: `CLIENT_ID`, `CLIENT_SECRET` (secret), `CLIENT_CERTIFICATE` (secret), `TENANT_ID`. */
  clientId?: string;
  clientSecret?: string;
  clientCertificate?: string;
  tenantId?: string;
  subscriptionId?: string;
  /** ACR: a user and password given as they are (`SERVICE_PRINCIPAL_CLIENT_ID` / `_SECRET`). */
  servicePrincipalClientId?: string;
  servicePrincipalClientSecret?: string;
  /** `AZURE_AUTHORITY_HOST`: where the service principal gets its Azure AD token. */
  azureAuthorityHost: string;
  /** `PLUGIN_INSECURE`: plain HTTP, or TLS without verification. */
  insecure: boolean;
  /** `PLUGIN_REGISTRY_CA`: a PEM file with the registry's CA. */
  registryCa?: string;
  baseImageRegistry?: string;
  baseImageUsername?: string;
  /** secret */
  baseImagePassword?: string;

  // -- build inputs
  dockerfile: string;
  context: string;
  target?: string;
  /**
   * The build args, `KEY=VALUE`: `PLUGIN_BUILD_ARGS` (comma list), or `PLUGIN_BUILD_ARGS_NEW` (`;` list, keeps
   * commas) when `PLUGIN_MULTIPLE_BUILD_ARGS` is true, as in the plugin (resolveSettings picks).
   */
  buildArgs: string[];
  /** `PLUGIN_BUILD_ARGS_NEW` as given (see buildArgs). */
  buildArgsNew: string[];
  /** `PLUGIN_MULTIPLE_BUILD_ARGS`. */
  multipleBuildArgs: boolean;
  /** `PLUGIN_BUILD_ARGS_FROM_ENV`: names of environment variables passed as build args. */
  buildArgsFromEnv: string[];
  /** `PLUGIN_SECRET`: a raw `--secret` value. */
  secret?: string;
  /** `PLUGIN_SECRETS_FROM_ENV`: `id=ENV_NAME`. */
  secretsFromEnv: string[];
  /** `PLUGIN_SECRETS_FROM_FILE`: `id=/path`. */
  secretsFromFile: string[];
  /** `PLUGIN_CUSTOM_LABELS`: `k=v`. */
  labels: string[];
  /** `PLUGIN_LABEL_SCHEMA`: label-schema labels, `k=v`. */
  labelSchema: string[];
  /** `PLUGIN_AUTO_LABEL` (default true). */
  autoLabel: boolean;
  /** `PLUGIN_REPO_LINK` = `DRONE_REPO_LINK`. */
  repoLink?: string;
  addHost: string[];
  noCache: boolean;
  /** `PLUGIN_PULL_IMAGE` (default true). */
  pullImage: boolean;
  quiet: boolean;
  /** `PLUGIN_PLATFORM`: comma list. */
  platforms: string[];
  /** `PLUGIN_BUILDX_OPTIONS` (comma list) / `PLUGIN_BUILDX_OPTIONS_SEMICOLON` (`;` list): extra buildx args. */
  buildxOptions: string[];
  cacheFrom: string[];
  cacheTo: string[];
  /** `PLUGIN_PATH_STYLE`: `use_path_style=true` on `type=s3` cache entries. */
  cachePathStyle: boolean;
  /** `PLUGIN_CACHE_TLS_INSECURE`: `tls_insecure_skip_verify=true` on cache entries. */
  cacheTlsInsecure: boolean;
  sshAgentKey?: string;
  /** `PLUGIN_BAKE_FILE`: build with `docker buildx bake -f FILE`. */
  bakeFile?: string;
  /** `PLUGIN_BAKE_OPTIONS`: bake's targets and options. */
  bakeOptions: string[];

  // -- builder
  builderName?: string;
  /** `PLUGIN_BUILDER_DRIVER`: `docker` (default, no builder created), `docker-container`, `remote`, `kubernetes`. */
  builderDriver?: string;
  builderDriverOpts: string[];
  /** `PLUGIN_BUILDER_DRIVER_OPTS_NEW`: tried first, `builderDriverOpts` when the builder fails to start. */
  builderDriverOptsNew: string[];
  builderRemoteConn?: string;
  /** `PLUGIN_BUILDER_CONFIG`: buildkitd.toml for a created builder. */
  builderConfig?: string;

  // -- outputs
  metadataFile?: string;
  artifactFile?: string;
  /** `DRONE_OUTPUT` (Harness CI sets it too): dotenv file for later steps. */
  outputFile?: string;

  // -- Amazon ECR
  region: string;
  /** secret */
  accessKey?: string;
  /** secret */
  secretKey?: string;
  assumeRole?: string;
  externalId?: string;
  /** secret */
  oidcTokenId?: string;
  awsProfile?: string;
  createRepository: boolean;
  scanOnPush: boolean;
  lifecyclePolicy?: string;
  repositoryPolicy?: string;

  // -- run
  run: RunContext;
  /** `--json`: one JSON result on stdout. */
  json: boolean;
  /** `--debug` or `BUILDX_STEP_DEBUG` (the plugin's PLUGIN_DEBUG is the daemon's and ignored). */
  debug: boolean;
}

/** Where a resolved value came from; `buildx-step config` shows it. */
export type SettingSource = (
  | { kind: "default" }
  | { kind: "file"; path: string; section: string }
  | { kind: "env"; name: string }
  | { kind: "flag"; name: string }
) & {
  /** How the plugin's rules changed the value from what the source gave (`joined with PLUGIN_REGISTRY`). */
  note?: string;
};

export interface ResolvedSettings {
  settings: Settings;
  sources: Partial<Record<keyof Settings, SettingSource>>;
  /** Settings accepted but ignored, or otherwise worth a warning; printed once before the run. */
  warnings: string[];
  /**
   * Set when the plugin would not build at all (PLUGIN_AUTO_TAG on a ref that is neither a tag nor the
   * default branch): the reason, which the mode prints before it exits 0 without building.
   */
  skip?: string;
  /** Where each field of `settings.run` came from (`DRONE_COMMIT_REF`, `--step`, ...). */
  runSources?: Partial<Record<keyof RunContext, SettingSource>>;
  /**
   * The environment the run works in: the process's, with `PLUGIN_ENV_FILE`'s variables added where unset,
   * as the plugin's `godotenv.Load` adds them to its own environment (proxies and PLUGIN_BUILD_ARGS_FROM_ENV
   * read from it too). Undefined: the process's environment as it is.
   */
  env?: NodeJS.ProcessEnv;
}
