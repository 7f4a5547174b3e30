import { type SettingKey, SPEC_BY_KEY } from "../config/schema.js";

/**
 * Command-line flags that set a setting: the highest-precedence source. Each flag names the setting it
 * sets, so provenance can say "flag --tag".
 */
export interface FlagSpec {
  /** commander's flag syntax, e.g. `--tag <tag>`. */
  flags: string;
  setting: SettingKey;
  description: string;
  /** The one value of this list setting's flag is a comma list (`--platform a,b`), as its variable's is. */
  commaList?: boolean;
}

/** Whether a flag is repeatable: a list setting's flag collects its values, each kept whole. */
export function isRepeatable(spec: FlagSpec): boolean {
  return SPEC_BY_KEY.get(spec.setting)?.kind === "list" && !spec.commaList;
}

const image: FlagSpec[] = [
  {
    flags: "--repo <name>",
    setting: "repo",
    description: "image repository, e.g. registry.example.com/team/app",
  },
  { flags: "-t, --tag <tag>", setting: "tags", description: "tag (repeatable; default latest)" },
  { flags: "--registry <host>", setting: "registry", description: "registry to log in to" },
  {
    flags: "--username <name>",
    setting: "username",
    description: "registry user (password from PLUGIN_PASSWORD)",
  },
  { flags: "--insecure", setting: "insecure", description: "plain HTTP or unverified TLS to the registry" },
  { flags: "--registry-ca <file>", setting: "registryCa", description: "PEM file with the registry's CA" },
];

const results: FlagSpec[] = [
  { flags: "--metadata-file <file>", setting: "metadataFile", description: "write buildx's metadata here" },
  {
    flags: "--artifact-file <file>",
    setting: "artifactFile",
    description: "write the docker/v1 artifact JSON here",
  },
  {
    flags: "--output-file <file>",
    setting: "outputFile",
    description: "dotenv output for later steps (DRONE_OUTPUT)",
  },
];

/**
 * Signing after the push (issue 15), on `build` and `push` alike. The key's password is never a flag:
 * argv is visible to every process of the host; it comes from PLUGIN_SIGN_PASSWORD or COSIGN_PASSWORD.
 */
const signing: FlagSpec[] = [
  {
    flags: "--sign-key <file>",
    setting: "signKey",
    description:
      "sign the pushed digest with this cosign key (password from PLUGIN_SIGN_PASSWORD or COSIGN_PASSWORD)",
  },
  {
    flags: "--attest-predicate <file>",
    setting: "attestPredicate",
    description: "with --sign-key: attest this file (e.g. a scanner's JSON report) about the pushed digest",
  },
  {
    flags: "--attest-type <type>",
    setting: "attestType",
    description: "predicate type: vuln, spdxjson, cyclonedx, slsaprovenance, custom (default) or a URI",
  },
];

/** One object in both lists, so that `config` (which has both) adds it once. */
const region: FlagSpec = {
  flags: "--region <region>",
  setting: "region",
  description: "AWS region for ECR (default us-east-1)",
};

export const buildFlags: FlagSpec[] = [
  ...image,
  { flags: "-f, --file <path>", setting: "dockerfile", description: "Dockerfile (default Dockerfile)" },
  { flags: "--target <stage>", setting: "target", description: "build stage to build" },
  { flags: "--build-arg <KEY=VALUE>", setting: "buildArgs", description: "build argument (repeatable)" },
  { flags: "--label <k=v>", setting: "labels", description: "image label (repeatable)" },
  {
    flags: "--platform <list>",
    setting: "platforms",
    description: "target platforms, comma-separated",
    commaList: true,
  },
  { flags: "--cache-from <spec>", setting: "cacheFrom", description: "cache source (repeatable)" },
  { flags: "--cache-to <spec>", setting: "cacheTo", description: "cache destination (repeatable)" },
  { flags: "--add-host <host:ip>", setting: "addHost", description: "extra /etc/hosts entry (repeatable)" },
  { flags: "--no-cache", setting: "noCache", description: "do not use the build cache" },
  { flags: "--dry-run", setting: "dryRun", description: "build, do not push (= --no-push)" },
  { flags: "--no-push", setting: "dryRun", description: "build, do not push (= --dry-run)" },
  {
    flags: "--tar <file>",
    setting: "tarPath",
    description: "with --dry-run: write the image to this tarball",
  },
  { flags: "--format <docker|oci>", setting: "outputFormat", description: "tarball format (default docker)" },
  { flags: "--load", setting: "load", description: "with --dry-run: load the image into the engine" },
  {
    flags: "--builder-driver <driver>",
    setting: "builderDriver",
    description: "docker, docker-container, remote, kubernetes",
  },
  { flags: "--builder-name <name>", setting: "builderName", description: "buildx builder to use or create" },
  {
    flags: "--buildx-option <arg>",
    setting: "buildxOptions",
    description: "extra buildx build argument, kept whole (repeatable)",
  },
  {
    flags: "--secret-from-env <id=ENV>",
    setting: "secretsFromEnv",
    description: "build secret from an environment variable (repeatable)",
  },
  {
    flags: "--secret-from-file <id=path>",
    setting: "secretsFromFile",
    description: "build secret from a file (repeatable)",
  },
  ...signing,
  { flags: "--auto-tag", setting: "autoTag", description: "tags from the git tag (1, 1.2, 1.2.3) or latest" },
  {
    flags: "--auto-tag-suffix <suffix>",
    setting: "autoTagSuffix",
    description: "suffix for --auto-tag tags",
  },
  region,
  ...results,
];

export const pushFlags: FlagSpec[] = [
  ...image,
  {
    flags: "--source-image <name>",
    setting: "sourceImage",
    description: "which image of the tarball (or of the engine) to push",
  },
  {
    // On `push`, --platform picks the platform of the tarball's image to push; on `build` it is the
    // platforms to build (PLUGIN_PLATFORM). `config` keeps the build's meaning (see pushOnlyFlags).
    flags: "--platform <os/arch[/variant]>",
    setting: "sourcePlatform",
    description: "push only this platform's manifest of the image, at its own digest",
  },
  {
    flags: "--expected-digest <digest>",
    setting: "expectedDigest",
    description: "refuse unless the image has this digest",
  },
  {
    flags: "--via <registry|daemon>",
    setting: "pushVia",
    description: "push through the registry API (default) or the engine",
  },
  {
    flags: "--push-timeout <duration>",
    setting: "pushTimeout",
    description: "the whole push must finish within this: 90s, 10m, 1h, or seconds (default 30m)",
  },
  ...signing,
  region,
  ...results,
];

/** The long name of a flag spec: `--tag` of `-t, --tag <tag>`. */
export function longFlag(spec: FlagSpec): string {
  return /--[\w-]+/.exec(spec.flags)?.[0] ?? spec.flags;
}

/**
 * The push flags that `build` does not have, for commands that take both (`config`): a push flag whose
 * name is a build flag's (`--platform`) keeps the build's meaning there.
 */
export const pushOnlyFlags: FlagSpec[] = pushFlags.filter(
  (flag) => !buildFlags.includes(flag) && !buildFlags.some((b) => longFlag(b) === longFlag(flag)),
);

/** Flags every command has that are not settings of the plugin but of this run. */
export const commonFlags: FlagSpec[] = [
  { flags: "--json", setting: "json", description: "print one JSON result on stdout" },
  { flags: "-q, --quiet", setting: "quiet", description: "print only warnings and errors" },
  { flags: "--debug", setting: "debug", description: "print debug lines" },
];
