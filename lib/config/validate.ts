/**
 * Checks of the resolved settings before anything runs: impossible combinations, malformed values and
 * files that are not there. Each problem names the settings as the user set them and says what to do;
 * all problems are reported together as one UsageError (exit 2). Nothing is created or changed here: the
 * tar path's folder is only checked to be creatable (the build creates it).
 */
import { constants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { checkCloudLogin } from "../auth/cloud-login.js";
import { UsageError } from "../errors.js";
import { isRegistryHost, normalizeRegistryHost } from "../reference/host.js";
import { PREDICATE_TYPE_NAMES, predicateType } from "../signing/predicate-types.js";
import { type ParsedSettings, parseSettings } from "./parsed.js";
import { settingName, userSettingNames } from "./provenance.js";
import { isPemContent, type SettingKey, SPEC_BY_KEY } from "./schema.js";
import type { ResolvedSettings } from "./settings.js";

/** `os/arch[/variant]` as the OCI image index spells a platform (lower-case words, digits, `_`). */
const PLATFORM_PATTERN = /^[a-z0-9_.-]+\/[a-z0-9_.-]+(\/[a-z0-9_.-]+)?$/;

interface Problem {
  message: string;
  /** The first setting involved, as the user set it (for `--json`'s `setting`). */
  setting?: string;
}

async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/**
 * Why the folder of `file` could not be created (or the file written), or undefined if it can.
 * `example` is a file name to suggest when `file` is a folder.
 */
async function whyNotWritable(file: string, example: string): Promise<string | undefined> {
  const existing = await statOrUndefined(file);
  if (existing?.isDirectory()) return `${file} is a folder; give a file name, e.g. ${file}/${example}`;
  let folder = dirname(file);
  for (;;) {
    const info = await statOrUndefined(folder);
    if (info) {
      if (!info.isDirectory()) return `${folder} is a file, so the folder for ${file} cannot be created`;
      try {
        await access(folder, constants.W_OK | constants.X_OK);
      } catch {
        return `${folder} is not writable, so ${file} cannot be written there`;
      }
      return undefined;
    }
    const parent = dirname(folder);
    if (parent === folder) return `no folder on the way to ${file} exists`;
    folder = parent;
  }
}

/** Whether `value` is one the schema allows for the setting (`oneOf`); any value when it lists none. */
function allowed(key: SettingKey, value: string): boolean {
  return SPEC_BY_KEY.get(key)?.oneOf?.includes(value) ?? true;
}

/** Problems with the settings; empty when they are valid. */
export async function findProblems(resolved: ResolvedSettings, cwd: string): Promise<Problem[]> {
  return (await check(resolved, cwd)).problems;
}

/** The settings' problems, and what their structured values parse into. */
async function check(
  resolved: ResolvedSettings,
  cwd: string,
): Promise<{ problems: Problem[]; parsed: ParsedSettings }> {
  const { settings, sources } = resolved;
  const problems: Problem[] = [];
  const name = (key: SettingKey) => settingName(key, sources);
  const userName = userSettingNames(sources);
  const add = (message: string, ...keys: SettingKey[]) =>
    problems.push({ message, ...(keys[0] ? { setting: userName(keys[0]) } : {}) });

  // -- the mode
  if (settings.pushOnly && settings.sourceTarPath && settings.sourceTarPath !== "-") {
    const info = await statOrUndefined(settings.sourceTarPath);
    if (!info) {
      add(
        `${name("sourceTarPath")}: ${settings.sourceTarPath} does not exist: build it first with PLUGIN_DRY_RUN and PLUGIN_TAR_PATH, or fix the path`,
        "sourceTarPath",
      );
    } else if (!info.isFile() && !info.isDirectory()) {
      add(
        `${name("sourceTarPath")}: ${settings.sourceTarPath} is neither a regular file nor a folder: give the image tarball, an OCI layout folder, or - to read standard input`,
        "sourceTarPath",
      );
    }
  }
  if (settings.bakeFile && settings.pushOnly) {
    // The plugin refuses this as well ("conflict: Bake mode (PLUGIN_BAKE_FILE) and Push-only mode
    // (PLUGIN_PUSH_ONLY) cannot be used together"), after its builder is made; here before anything runs.
    add(
      `${name("bakeFile")} and ${name("pushOnly")} cannot be used together: bake builds the bake file's targets, push-only pushes an image built before; unset one of them`,
      "bakeFile",
      "pushOnly",
    );
  }
  if (settings.sourcePlatform !== undefined && !PLATFORM_PATTERN.test(settings.sourcePlatform.trim())) {
    add(
      `${name("sourcePlatform")} is "${settings.sourcePlatform}": give one platform as os/arch or os/arch/variant, e.g. linux/amd64 or linux/arm/v7`,
      "sourcePlatform",
    );
  }
  if (!allowed("outputFormat", settings.outputFormat)) {
    add(
      `${name("outputFormat")} is "${settings.outputFormat}": the tarball format is docker or oci`,
      "outputFormat",
    );
  }
  if (!allowed("pushVia", settings.pushVia)) {
    add(`${name("pushVia")} is "${settings.pushVia}": push via registry (default) or daemon`, "pushVia");
  }
  if (settings.tarPath && settings.dryRun) {
    const why = await whyNotWritable(settings.tarPath, "image.tar");
    if (why) add(`${name("tarPath")}: ${why}`, "tarPath");
  }
  // Result files are written after the push: one that cannot be written must stop the run before it.
  const resultFiles = [
    ["outputFile", "output.env"],
    ["artifactFile", "artifact.json"],
    ["metadataFile", "metadata.json"],
  ] as const;
  for (const [key, example] of resultFiles) {
    const file = settings[key];
    if (!file) continue;
    const why = await whyNotWritable(file, example);
    if (why) add(`${name(key)}: ${why}; nothing was built or pushed`, key);
  }

  // -- the image (a bake file names its own images; with push-only too it is refused above)
  const bakes = Boolean(settings.bakeFile);
  const needsRepo = !bakes && (settings.pushOnly || !settings.dryRun || settings.load);
  if (settings.repo === undefined || settings.repo.trim() === "") {
    if (needsRepo) {
      const why = settings.pushOnly
        ? "push-only pushes to it"
        : settings.dryRun
          ? "PLUGIN_BUILDX_LOAD loads the image under it"
          : "the image is pushed to it";
      add(
        `PLUGIN_REPO is not set, and ${why}: set PLUGIN_REPO (or --repo) to e.g. registry.example.com/team/app`,
        "repo",
      );
    }
  }
  const parsed = parseSettings(settings, name, (message, key) => add(message, key));
  // -- the registries logged in to: a login for a cloud registry goes to the host its name says
  for (const key of ["registry", "baseImageRegistry"] as const) {
    const registry = settings[key]?.trim();
    if (!registry) continue;
    const host = normalizeRegistryHost(registry);
    if (isRegistryHost(host)) continue;
    add(
      host.includes("@")
        ? // Not echoed: what comes before the @ is a user and likely a password.
          `${name(key)} has credentials before an @ in it: give the registry alone (e.g. registry.example.com) and the login in PLUGIN_USERNAME and PLUGIN_PASSWORD`
        : `${name(key)} names the registry "${registry}", whose host "${host}" is not a registry host (letters, digits, - and . or an [IPv6] address, with an optional :port); nothing is logged in to or pushed`,
      key,
    );
  }
  if (!settings.pushOnly && !bakes && settings.tags.length === 0 && !settings.dryRun) {
    add(`${name("tags")} is empty: set at least one tag (the default is latest)`, "tags");
  }

  // -- files that must exist
  for (const key of [
    "registryCa",
    "builderConfig",
    "bakeFile",
    "lifecyclePolicy",
    "repositoryPolicy",
  ] as const) {
    const file = settings[key];
    if (!file) continue;
    const info = await statOrUndefined(file);
    if (!info?.isFile())
      add(`${name(key)}: ${file} ${info ? "is not a regular file" : "does not exist"}`, key);
  }
  if (settings.registryCa && (await statOrUndefined(settings.registryCa))?.isFile()) {
    // Read here so that a wrong file is bad input (exit 2) rather than a TLS failure half-way through.
    const pem = await readFile(settings.registryCa, "utf8").catch(() => "");
    if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
      add(
        `${name("registryCa")}: ${settings.registryCa} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"); give the registry's CA certificate in PEM form`,
        "registryCa",
      );
    }
  }
  if (settings.config) {
    // A secret: the message never repeats the value.
    const text = settings.config.trim();
    if (text.startsWith("{")) {
      try {
        JSON.parse(text);
      } catch {
        add(
          `${name("config")} starts with "{" but is not valid JSON: give a docker config.json's content or a path to one`,
          "config",
        );
      }
    } else {
      const info = await statOrUndefined(resolve(cwd, text));
      if (!info?.isFile()) {
        add(`${name("config")} is neither docker config JSON nor the path of an existing file`, "config");
      }
    }
  }
  // -- signing: what can be checked without reading the key (the key itself is loaded, and its password
  // checked, by the mode before anything runs: lib/signing/prepare.ts)
  if (settings.signKey !== undefined && settings.signKey.trim() !== "") {
    const fromFlag = sources.signKey?.kind === "flag";
    if (isPemContent(settings.signKey)) {
      // The key's content on the command line is visible to every process of the host.
      if (fromFlag)
        add(
          `${name("signKey")} takes the path of the key file: a key's content must not be on the command line (give it in PLUGIN_SIGN_KEY instead)`,
          "signKey",
        );
    } else {
      const info = await statOrUndefined(settings.signKey);
      if (!info?.isFile())
        add(
          `${name("signKey")}: ${settings.signKey} ${info ? "is not a regular file" : "does not exist"}: give the path of the cosign key (cosign generate-key-pair writes cosign.key), or its content in PLUGIN_SIGN_KEY; nothing was built or pushed`,
          "signKey",
        );
    }
    if (settings.bakeFile) {
      add(
        `${name("signKey")} and ${name("bakeFile")}: bake pushes several targets, which this tool does not sign; sign them with cosign after the bake, or build each image without bake`,
        "signKey",
        "bakeFile",
      );
    }
  }
  const attestTypeSet = sources.attestType !== undefined && sources.attestType.kind !== "default";
  if (settings.attestPredicate) {
    if (!settings.signKey) {
      add(
        `${name("attestPredicate")} is set but ${name("signKey")} is not: an attestation is signed with the key; set ${name("signKey")}`,
        "attestPredicate",
        "signKey",
      );
    }
    const info = await statOrUndefined(settings.attestPredicate);
    if (!info?.isFile())
      add(
        `${name("attestPredicate")}: ${settings.attestPredicate} ${info ? "is not a regular file" : "does not exist"}: give the file to attest, e.g. the scanner's JSON report`,
        "attestPredicate",
      );
  } else if (attestTypeSet) {
    add(
      `${name("attestType")} is set but ${name("attestPredicate")} is not: give the file to attest in ${name("attestPredicate")}, or unset ${name("attestType")}`,
      "attestType",
      "attestPredicate",
    );
  }
  if (!predicateType(settings.attestType)) {
    add(
      `${name("attestType")} is ${JSON.stringify(settings.attestType)}: give one of cosign's predicate types (${PREDICATE_TYPE_NAMES.join(", ")}) or a URI`,
      "attestType",
    );
  }

  // -- the cloud registry's login (GCR, GAR, ACR): settings that cannot log in are bad input, not a refused push
  try {
    await checkCloudLogin(settings, name);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.push({ message: error.message });
  }
  return { problems, parsed };
}

/**
 * The settings' structured values, parsed; throws one UsageError listing every problem, naming the
 * settings involved.
 */
export async function validateSettings(resolved: ResolvedSettings, cwd: string): Promise<ParsedSettings> {
  const { problems, parsed } = await check(resolved, cwd);
  if (problems.length === 0) return parsed;
  const first = problems[0] as Problem;
  if (problems.length === 1) throw new UsageError(first.message, first.setting);
  throw new UsageError(
    `${problems.length} settings are invalid:\n${problems.map((p) => `  - ${p.message}`).join("\n")}`,
    first.setting,
  );
}
