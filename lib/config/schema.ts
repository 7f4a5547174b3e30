/**
 * Every setting of the Drone/Harness buildx plugin (and its ECR variant) that this tool reads: the
 * environment variables that set it (aliases in the plugin's order: the first one set wins, as with
 * urfave/cli's `EnvVar: "A,B"`), how its value is parsed, its default, and whether it is a secret.
 *
 * Sources: drone-plugins/drone-buildx `app.go` (flags, `EnvVar` lists and defaults) and
 * `cmd/drone-ecr/main.go` (ECR settings and their `ECR_*` / `AWS_*` fall-backs).
 * The stage settings file uses the same names without `PLUGIN_`, in lower case.
 */

import type { ListForm } from "./parse.js";

/** A value as the sources give it, parsed: what a setting of each kind holds. */
export type SettingValue = string | boolean | string[];

/** One environment variable of a setting. `form` overrides the setting's list form for this variable. */
interface EnvName {
  name: string;
  form?: ListForm;
}

/** One row of the table below, whatever its key (the table's keys make {@link SettingKey}). */
interface SettingRow {
  key: string;
  kind: "string" | "bool" | "list";
  /** Variables in precedence order. With `concat`, every variable set contributes (in this order). */
  env: readonly EnvName[];
  /** For lists: how one string is split (see {@link ListForm}); default `comma`. */
  form?: ListForm;
  /** The lists of all `env` variables are joined instead of the first one winning. */
  concat?: boolean;
  /** Without a default, the setting is optional (undefined when no source sets it). */
  default?: string | boolean | readonly string[];
  /** Allowed values (checked by validation, which names the setting); also the setting's type. */
  oneOf?: readonly string[];
  /** Never printed: `config` shows `***`. */
  secret?: boolean;
  /**
   * Secret only for some values: a setting that takes a path or the content itself (a key's PEM) is
   * masked when it holds the content; a path is shown, and made absolute (see `path`), as usual.
   */
  secretWhen?: (value: string) => boolean;
  /** A path of a file or folder: made absolute against the run's working directory. */
  path?: boolean;
  /** One line for `config` and the docs. */
  summary: string;
  /** The name that stands for the setting in messages, when it is not the first of `env`. */
  primary?: string;
}

/** A PEM block given as the value itself, rather than the path of a file that holds one. */
export function isPemContent(value: string): boolean {
  return value.trimStart().startsWith("-----BEGIN ");
}

const env = (...names: (string | EnvName)[]): EnvName[] =>
  names.map((name) => (typeof name === "string" ? { name } : name));

const TABLE = [
  // -- mode
  {
    key: "dryRun",
    kind: "bool",
    env: env("PLUGIN_DRY_RUN", "PLUGIN_NO_PUSH"),
    default: false,
    summary: "build, do not push",
  },
  {
    key: "pushOnly",
    kind: "bool",
    env: env("PLUGIN_PUSH_ONLY"),
    default: false,
    summary: "no build: push the image of PLUGIN_SOURCE_TAR_PATH (or PLUGIN_SOURCE_IMAGE)",
  },
  {
    key: "tarPath",
    kind: "string",
    env: env("PLUGIN_TAR_PATH", "PLUGIN_DESTINATION_TAR_PATH"),
    path: true,
    summary: "with dry run: write the image to this tarball",
  },
  {
    key: "outputFormat",
    kind: "string",
    env: env("PLUGIN_BUILDX_OUTPUT_FORMAT"),
    default: "docker",
    oneOf: ["docker", "oci"],
    summary: "tarball format: docker or oci",
  },
  {
    key: "load",
    kind: "bool",
    env: env("PLUGIN_BUILDX_LOAD"),
    default: false,
    summary: "with dry run: load the image into the engine",
  },
  {
    key: "sourceTarPath",
    kind: "string",
    env: env("PLUGIN_SOURCE_TAR_PATH"),
    path: true,
    summary:
      "push-only: the image tarball (plain, gzip, zstd, xz or bzip2), an OCI layout folder, or - for stdin",
  },
  {
    key: "sourceImage",
    kind: "string",
    env: env("PLUGIN_SOURCE_IMAGE"),
    summary: "push-only: which image (in the tarball, or in the engine)",
  },
  {
    key: "sourcePlatform",
    kind: "string",
    env: env("PLUGIN_SOURCE_PLATFORM"),
    summary: "push-only: push this platform's manifest (os/arch[/variant]) of the tarball's image",
  },
  {
    key: "expectedDigest",
    kind: "string",
    env: env("PLUGIN_EXPECTED_DIGEST"),
    summary: "push-only: refuse unless the image has this digest (sha256:...)",
  },
  {
    key: "pushVia",
    kind: "string",
    env: env("PLUGIN_PUSH_VIA"),
    default: "registry",
    oneOf: ["registry", "daemon"],
    summary: "push-only through the registry API or the engine",
  },

  // As written (30m, 90s): validation checks it, push-deadline.ts reads it with parseDuration.
  {
    key: "pushTimeout",
    kind: "string",
    env: env("PLUGIN_PUSH_TIMEOUT"),
    default: "30m",
    summary: "push-only: the whole push must finish within this (90s, 10m, 1h, or seconds)",
  },

  // -- signing (issue 15): cosign signatures and attestations of what was pushed
  {
    key: "signKey",
    kind: "string",
    env: env("PLUGIN_SIGN_KEY"),
    path: true,
    secretWhen: isPemContent,
    summary:
      "sign the pushed digest with this cosign key (the path of cosign.key, or of a PKCS#8 PEM ECDSA P-256 key; or the PEM itself)",
  },
  {
    key: "signPassword",
    primary: "PLUGIN_SIGN_PASSWORD",
    kind: "string",
    env: env("PLUGIN_SIGN_PASSWORD", "COSIGN_PASSWORD"),
    secret: true,
    summary: "the password of PLUGIN_SIGN_KEY (cosign generate-key-pair's)",
  },
  {
    key: "attestPredicate",
    kind: "string",
    env: env("PLUGIN_ATTEST_PREDICATE"),
    path: true,
    summary:
      "with PLUGIN_SIGN_KEY: attest this file (a scanner's JSON report, an SBOM) about the pushed digest",
  },
  {
    key: "attestType",
    kind: "string",
    env: env("PLUGIN_ATTEST_TYPE"),
    default: "custom",
    summary:
      "the attestation's predicate type: vuln, spdxjson, cyclonedx, slsaprovenance, custom (cosign's default) or a URI",
  },

  // -- image
  { key: "repo", kind: "string", env: env("PLUGIN_REPO"), summary: "image repository" },
  // With PLUGIN_AUTO_TAG, resolveSettings replaces the tags by the auto tags.
  {
    key: "tags",
    primary: "PLUGIN_TAGS",
    kind: "list",
    env: env("PLUGIN_TAG", "PLUGIN_TAGS"),
    default: ["latest"],
    summary: "tags (also the .tags file)",
  },
  {
    key: "autoTag",
    primary: "PLUGIN_AUTO_TAG",
    kind: "bool",
    env: env("PLUGIN_DEFAULT_TAGS", "PLUGIN_AUTO_TAG"),
    default: false,
    summary: "tags from the git tag (1, 1.2, 1.2.3) or latest on the default branch",
  },
  {
    key: "autoTagSuffix",
    primary: "PLUGIN_AUTO_TAG_SUFFIX",
    kind: "string",
    env: env("PLUGIN_DEFAULT_SUFFIX", "PLUGIN_AUTO_TAG_SUFFIX"),
    summary: "suffix for auto tags",
  },

  // -- registry and login
  {
    key: "registry",
    kind: "string",
    env: env("PLUGIN_REGISTRY", "DOCKER_REGISTRY"),
    default: "https://index.docker.io/v1/",
    summary: "registry to log in to",
  },
  {
    key: "username",
    kind: "string",
    env: env("PLUGIN_USERNAME", "DOCKER_USERNAME"),
    summary: "registry user",
  },
  {
    key: "password",
    kind: "string",
    env: env("PLUGIN_PASSWORD", "DOCKER_PASSWORD"),
    secret: true,
    summary: "registry password",
  },
  { key: "email", kind: "string", env: env("PLUGIN_EMAIL", "DOCKER_EMAIL"), summary: "registry email" },
  {
    key: "config",
    kind: "string",
    env: env("PLUGIN_CONFIG", "DOCKER_PLUGIN_CONFIG"),
    secret: true,
    summary: "docker config JSON, or a path to one",
  },
  {
    key: "registryType",
    kind: "string",
    env: env("PLUGIN_REGISTRY_TYPE"),
    summary:
      "registry kind (ECR, GCR, GAR, ACR, Docker): joins PLUGIN_REPO to PLUGIN_REGISTRY; the artifact file's type",
  },
  {
    key: "artifactRegistry",
    primary: "PLUGIN_ARTIFACT_REGISTRY",
    kind: "string",
    env: env("PLUGIN_ARTIFACT_REGISTRY", "ARTIFACT_REGISTRY"),
    summary: "the artifact file's registryUrl (default: PLUGIN_REGISTRY)",
  },
  {
    key: "location",
    kind: "string",
    env: env("PLUGIN_LOCATION"),
    summary:
      "Google Artifact Registry location: the registry is LOCATION-docker.pkg.dev when PLUGIN_REGISTRY is unset",
  },
  {
    key: "jsonKey",
    primary: "PLUGIN_JSON_KEY",
    kind: "string",
    env: env("PLUGIN_JSON_KEY", "GCR_JSON_KEY", "GOOGLE_CREDENTIALS"),
    secret: true,
    summary: "GCR/GAR service account JSON key (plain or base64): login as _json_key",
  },
  {
    key: "accessToken",
    primary: "ACCESS_TOKEN",
    kind: "string",
    env: env("ACCESS_TOKEN", "PLUGIN_ACCESS_TOKEN"),
    secret: true,
    summary: "GCR/GAR OAuth access token: login as oauth2accesstoken",
  },
  {
    key: "clientId",
    primary: "CLIENT_ID",
    kind: "string",
    env: env("CLIENT_ID", "AZURE_CLIENT_ID", "AZURE_APP_ID", "PLUGIN_CLIENT_ID"),
    summary: "ACR: Azure service principal (application) id",
  },
  {
    key: "clientSecret",
    primary: "CLIENT_SECRET",
    kind: "string",
    env: env("CLIENT_SECRET", "PLUGIN_CLIENT_SECRET"),
    secret: true,
    summary: "ACR: the service principal's secret",
  },
  {
    key: "clientCertificate",
    primary: "CLIENT_CERTIFICATE",
    kind: "string",
    env: env("CLIENT_CERTIFICATE", "PLUGIN_CLIENT_CERTIFICATE"),
    secret: true,
    summary: "ACR: the service principal's certificate (base64 PEM)",
  },
  {
    key: "tenantId",
    primary: "TENANT_ID",
    kind: "string",
    env: env("TENANT_ID", "AZURE_TENANT_ID", "PLUGIN_TENANT_ID"),
    summary: "ACR: Azure tenant id",
  },
  {
    key: "subscriptionId",
    primary: "SUBSCRIPTION_ID",
    kind: "string",
    env: env("SUBSCRIPTION_ID", "PLUGIN_SUBSCRIPTION_ID"),
    summary: "ACR: Azure subscription (accepted; the portal link the plugin derives from it is not made)",
  },
  {
    key: "servicePrincipalClientId",
    primary: "SERVICE_PRINCIPAL_CLIENT_ID",
    kind: "string",
    env: env("SERVICE_PRINCIPAL_CLIENT_ID"),
    summary: "ACR: a login user given directly (with SERVICE_PRINCIPAL_CLIENT_SECRET)",
  },
  {
    key: "servicePrincipalClientSecret",
    primary: "SERVICE_PRINCIPAL_CLIENT_SECRET",
    kind: "string",
    env: env("SERVICE_PRINCIPAL_CLIENT_SECRET"),
    secret: true,
    summary: "ACR: the password of SERVICE_PRINCIPAL_CLIENT_ID",
  },
  {
    key: "azureAuthorityHost",
    primary: "AZURE_AUTHORITY_HOST",
    kind: "string",
    env: env("AZURE_AUTHORITY_HOST", "PLUGIN_AZURE_AUTHORITY_HOST"),
    default: "https://login.microsoftonline.com",
    summary: "ACR: the Azure AD endpoint for the service principal's token",
  },
  {
    key: "insecure",
    kind: "bool",
    env: env("PLUGIN_INSECURE"),
    default: false,
    summary:
      "plain HTTP or unverified TLS to the registry (a created builder gets it in its buildkitd.toml; the docker driver needs the engine's insecure-registries)",
  },
  {
    key: "registryCa",
    kind: "string",
    env: env("PLUGIN_REGISTRY_CA"),
    path: true,
    summary:
      "PEM file with the registry's CA (a created builder gets it in its buildkitd.toml; the docker driver needs /etc/docker/certs.d/HOST/ca.crt)",
  },
  {
    key: "baseImageRegistry",
    primary: "PLUGIN_BASE_IMAGE_REGISTRY",
    kind: "string",
    env: env("PLUGIN_DOCKER_REGISTRY", "PLUGIN_BASE_IMAGE_REGISTRY"),
    summary: "registry of the base images, to log in to",
  },
  {
    key: "baseImageUsername",
    primary: "PLUGIN_BASE_IMAGE_USERNAME",
    kind: "string",
    env: env("PLUGIN_DOCKER_USERNAME", "PLUGIN_BASE_IMAGE_USERNAME"),
    summary: "user for the base image registry",
  },
  {
    key: "baseImagePassword",
    primary: "PLUGIN_BASE_IMAGE_PASSWORD",
    kind: "string",
    env: env("PLUGIN_DOCKER_PASSWORD", "PLUGIN_BASE_IMAGE_PASSWORD"),
    secret: true,
    summary: "password for the base image registry",
  },

  // -- build inputs
  {
    key: "dockerfile",
    kind: "string",
    env: env("PLUGIN_DOCKERFILE"),
    default: "Dockerfile",
    summary: "Dockerfile",
  },
  { key: "context", kind: "string", env: env("PLUGIN_CONTEXT"), default: ".", summary: "build context" },
  { key: "target", kind: "string", env: env("PLUGIN_TARGET"), summary: "build stage" },
  {
    key: "buildArgs",
    kind: "list",
    form: "keyValue",
    env: env("PLUGIN_BUILD_ARGS"),
    default: [],
    summary:
      "build args KEY=VALUE (comma list, JSON); with PLUGIN_MULTIPLE_BUILD_ARGS, PLUGIN_BUILD_ARGS_NEW",
  },
  {
    key: "buildArgsNew",
    kind: "list",
    form: "semicolon",
    env: env("PLUGIN_BUILD_ARGS_NEW"),
    default: [],
    summary:
      "build args KEY=VALUE as a ; list (values keep commas); used when PLUGIN_MULTIPLE_BUILD_ARGS is true",
  },
  {
    key: "multipleBuildArgs",
    kind: "bool",
    env: env("PLUGIN_MULTIPLE_BUILD_ARGS"),
    default: false,
    summary:
      "take the build args from PLUGIN_BUILD_ARGS_NEW instead of PLUGIN_BUILD_ARGS (as the plugin does)",
  },
  {
    key: "buildArgsFromEnv",
    kind: "list",
    env: env("PLUGIN_BUILD_ARGS_FROM_ENV"),
    default: [],
    summary:
      "environment variables passed as build args name and NAME (value of name, NAME or HARNESS_NAME), through buildx's environment",
  },
  {
    key: "secret",
    kind: "string",
    env: env("PLUGIN_SECRET"),
    secret: true,
    summary: "a raw --secret value",
  },
  {
    key: "secretsFromEnv",
    kind: "list",
    env: env("PLUGIN_SECRETS_FROM_ENV"),
    default: [],
    summary: "build secrets id=ENV_NAME",
  },
  {
    key: "secretsFromFile",
    kind: "list",
    env: env("PLUGIN_SECRETS_FROM_FILE"),
    default: [],
    summary: "build secrets id=/path",
  },
  {
    key: "labels",
    kind: "list",
    form: "keyValue",
    env: env("PLUGIN_CUSTOM_LABELS"),
    default: [],
    summary: "image labels k=v",
  },
  {
    key: "labelSchema",
    kind: "list",
    form: "keyValue",
    env: env("PLUGIN_LABEL_SCHEMA"),
    default: [],
    summary: "label-schema labels k=v",
  },
  {
    key: "autoLabel",
    kind: "bool",
    env: env("PLUGIN_AUTO_LABEL"),
    default: true,
    summary: "add the plugin's org.opencontainers.image.* labels",
  },
  {
    key: "repoLink",
    kind: "string",
    env: env("PLUGIN_REPO_LINK", "DRONE_REPO_LINK"),
    summary: "repository link for auto labels",
  },
  {
    key: "addHost",
    kind: "list",
    env: env("PLUGIN_ADD_HOST"),
    default: [],
    summary: "extra /etc/hosts entries host:ip",
  },
  { key: "noCache", kind: "bool", env: env("PLUGIN_NO_CACHE"), default: false, summary: "no build cache" },
  {
    key: "pullImage",
    kind: "bool",
    env: env("PLUGIN_PULL_IMAGE"),
    default: true,
    summary: "pull newer base images",
  },
  { key: "quiet", kind: "bool", env: env("PLUGIN_QUIET"), default: false, summary: "quiet output" },
  {
    key: "platforms",
    kind: "list",
    env: env("PLUGIN_PLATFORM"),
    default: [],
    summary: "target platforms",
  },
  {
    key: "buildxOptions",
    kind: "list",
    concat: true,
    env: env("PLUGIN_BUILDX_OPTIONS", { name: "PLUGIN_BUILDX_OPTIONS_SEMICOLON", form: "semicolon" }),
    default: [],
    summary: "extra buildx arguments (comma list; PLUGIN_BUILDX_OPTIONS_SEMICOLON: ; list)",
  },
  {
    key: "cacheFrom",
    kind: "list",
    form: "semicolon",
    env: env("PLUGIN_CACHE_FROM"),
    default: [],
    summary: "cache sources (; list)",
  },
  {
    key: "cacheTo",
    kind: "list",
    form: "semicolon",
    env: env("PLUGIN_CACHE_TO"),
    default: [],
    summary: "cache destinations (; list)",
  },
  {
    key: "sshAgentKey",
    kind: "string",
    env: env("PLUGIN_SSH_AGENT_KEY"),
    secret: true,
    summary: "SSH private key for the build's ssh agent",
  },

  {
    key: "cachePathStyle",
    primary: "PLUGIN_PATH_STYLE",
    kind: "bool",
    env: env("PLUGIN_PATH_STYLE", "AWS_PLUGIN_PATH_STYLE"),
    default: false,
    summary: "add use_path_style=true to type=s3 cache entries",
  },
  {
    key: "cacheTlsInsecure",
    primary: "PLUGIN_CACHE_TLS_INSECURE",
    kind: "bool",
    env: env("PLUGIN_CACHE_TLS_INSECURE"),
    default: false,
    summary: "add tls_insecure_skip_verify=true to cache entries",
  },
  {
    key: "bakeFile",
    kind: "string",
    env: env("PLUGIN_BAKE_FILE"),
    path: true,
    summary: "build with docker buildx bake and this bake file instead of docker buildx build",
  },
  {
    key: "bakeOptions",
    kind: "list",
    form: "semicolon",
    env: env("PLUGIN_BAKE_OPTIONS"),
    default: [],
    summary: "bake targets and options (; list); --push and --load are left out (PLUGIN_DRY_RUN decides)",
  },

  // -- builder
  { key: "builderName", kind: "string", env: env("PLUGIN_BUILDER_NAME"), summary: "buildx builder name" },
  {
    key: "builderDriver",
    kind: "string",
    env: env("PLUGIN_BUILDER_DRIVER"),
    summary: "docker, docker-container, remote, kubernetes",
  },
  {
    key: "builderDriverOpts",
    kind: "list",
    form: "semicolon",
    env: env("PLUGIN_BUILDER_DRIVER_OPTS"),
    default: [],
    summary: "builder driver options (; list)",
  },
  {
    key: "builderDriverOptsNew",
    kind: "list",
    form: "semicolon",
    env: env("PLUGIN_BUILDER_DRIVER_OPTS_NEW"),
    default: [],
    summary:
      "builder driver options tried first; PLUGIN_BUILDER_DRIVER_OPTS when the builder does not start with them",
  },
  {
    key: "builderRemoteConn",
    kind: "string",
    env: env("PLUGIN_BUILDER_REMOTE_CONN"),
    summary: "remote BuildKit address",
  },
  {
    key: "builderConfig",
    kind: "string",
    env: env("PLUGIN_BUILDER_CONFIG"),
    path: true,
    summary: "buildkitd.toml for a created builder",
  },

  // -- outputs
  {
    key: "metadataFile",
    kind: "string",
    env: env("PLUGIN_METADATA_FILE"),
    path: true,
    summary: "buildx metadata file",
  },
  {
    key: "artifactFile",
    kind: "string",
    env: env("PLUGIN_ARTIFACT_FILE"),
    path: true,
    summary: "docker/v1 artifact file",
  },
  {
    key: "outputFile",
    kind: "string",
    env: env("DRONE_OUTPUT"),
    path: true,
    summary: "dotenv output for later steps",
  },

  // -- Amazon ECR (cmd/drone-ecr)
  {
    key: "region",
    kind: "string",
    env: env("PLUGIN_REGION", "ECR_REGION", "AWS_REGION"),
    default: "us-east-1",
    summary: "AWS region",
  },
  {
    key: "accessKey",
    kind: "string",
    env: env("PLUGIN_ACCESS_KEY", "ECR_ACCESS_KEY", "AWS_ACCESS_KEY_ID"),
    secret: true,
    summary: "AWS access key id",
  },
  {
    key: "secretKey",
    kind: "string",
    env: env("PLUGIN_SECRET_KEY", "ECR_SECRET_KEY", "AWS_SECRET_ACCESS_KEY"),
    secret: true,
    summary: "AWS secret access key",
  },
  { key: "assumeRole", kind: "string", env: env("PLUGIN_ASSUME_ROLE"), summary: "IAM role to assume" },
  {
    key: "externalId",
    kind: "string",
    env: env("PLUGIN_EXTERNAL_ID"),
    summary: "external id for the assumed role",
  },
  {
    key: "oidcTokenId",
    kind: "string",
    env: env("PLUGIN_OIDC_TOKEN_ID"),
    secret: true,
    summary: "OIDC token: ECR's AssumeRoleWithWebIdentity, or ACR's Azure AD federated credential",
  },
  { key: "awsProfile", kind: "string", env: env("PLUGIN_AWS_PROFILE"), summary: "AWS shared-config profile" },
  {
    key: "createRepository",
    kind: "bool",
    env: env("PLUGIN_CREATE_REPOSITORY", "ECR_CREATE_REPOSITORY"),
    default: false,
    summary: "create the ECR repository if missing",
  },
  {
    key: "scanOnPush",
    kind: "bool",
    env: env("PLUGIN_SCAN_ON_PUSH"),
    default: false,
    summary: "ECR scan on push",
  },
  {
    key: "lifecyclePolicy",
    kind: "string",
    env: env("PLUGIN_LIFECYCLE_POLICY"),
    path: true,
    summary: "ECR lifecycle policy file",
  },
  {
    key: "repositoryPolicy",
    kind: "string",
    env: env("PLUGIN_REPOSITORY_POLICY"),
    path: true,
    summary: "ECR repository policy file",
  },

  // -- this run
  { key: "json", kind: "bool", env: [], default: false, summary: "one JSON result on stdout" },
  // Not PLUGIN_DEBUG: the plugin passes that to the daemon it starts, so it is ignored here.
  {
    key: "debug",
    kind: "bool",
    env: env("BUILDX_STEP_DEBUG"),
    default: false,
    summary: "debug lines",
  },
] as const satisfies readonly SettingRow[];

type Row = (typeof TABLE)[number];

/** A setting read from the sources (every one of {@link Settings} but `run`, which is the CI context). */
export type SettingKey = Row["key"];

/** The type a row's value has: its kind's, narrowed to `oneOf` when the values are fixed. */
type ValueOf<R extends Row> = R extends { kind: "bool" }
  ? boolean
  : R extends { kind: "list" }
    ? string[]
    : R extends { oneOf: readonly (infer V)[] }
      ? V
      : string;

/** The settings the table describes: a setting with a default always has a value, one without may not. */
export type SettingValues = { [R in Extract<Row, { default: unknown }> as R["key"]]: ValueOf<R> } & {
  [R in Exclude<Row, { default: unknown }> as R["key"]]?: ValueOf<R>;
};

export interface SettingSpec extends SettingRow {
  key: SettingKey;
}

/** Every setting, in the order `config` shows them. */
export const SETTINGS: readonly SettingSpec[] = TABLE;

/** The spec of each setting, by key. */
export const SPEC_BY_KEY: ReadonlyMap<SettingKey, SettingSpec> = new Map(SETTINGS.map((s) => [s.key, s]));

/** Whether `value` of the setting `spec` must never be printed (see `secret` and `secretWhen`). */
export function isSecretValue(spec: SettingSpec, value: SettingValue): boolean {
  if (spec.secret) return true;
  return typeof value === "string" && spec.secretWhen?.(value) === true;
}

/** The settings file's key for a variable: its name without `PLUGIN_`, in lower case; none for others. */
export function fileKeyOf(envName: string): string | undefined {
  return envName.startsWith("PLUGIN_") ? envName.slice("PLUGIN_".length).toLowerCase() : undefined;
}

/** The setting's main variable, used to name it in messages when no source set it. */
export function primaryEnvName(key: SettingKey): string {
  const spec = SPEC_BY_KEY.get(key);
  return spec?.primary ?? spec?.env[0]?.name ?? key;
}
