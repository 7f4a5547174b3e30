/**
 * The plugin's rules that relate settings to each other, applied once to the merged settings so that every
 * mode, `config` and the output files see the same values:
 *
 * - build args: `PLUGIN_BUILD_ARGS_NEW` replaces `PLUGIN_BUILD_ARGS` when `PLUGIN_MULTIPLE_BUILD_ARGS` is true,
 *   and is not used otherwise (drone-buildx `app.go`: `args-new` is read only under that switch);
 * - the registry: `PLUGIN_LOCATION` gives Artifact Registry's host when `PLUGIN_REGISTRY` is unset
 *   (drone-buildx-gar), and the repository is joined to the registry as the ECR/GCR/GAR/ACR wrappers do;
 * - dry run and push-only together: push-only runs (drone-buildx runs its push-only branch and never
 *   consults dry run), with a warning, since a stage-level dry run and a step's push-only is a real mix.
 *
 * Each rule that changes a value says so in a warning or in the value's source note (`config` shows it).
 */
import { DOCKER_HUB, normalizeRegistryHost, registryHostOf } from "../reference/host.js";
import { settingName } from "./provenance.js";
import { joinRepo, registryKindOf, registryPrefixOf } from "./registry-kind.js";
import type { ResolvedSettings, SettingSource } from "./settings.js";

function isSet(source: SettingSource | undefined): source is SettingSource {
  return source !== undefined && source.kind !== "default";
}

function withNote(source: SettingSource | undefined, note: string): SettingSource {
  return { ...(source ?? { kind: "default" }), note };
}

function chooseBuildArgs(resolved: ResolvedSettings): void {
  const { settings, sources, warnings } = resolved;
  const name = (key: "buildArgs" | "buildArgsNew" | "multipleBuildArgs") => settingName(key, sources);
  // A flag is the user's explicit word for this run: it wins over the plugin's switch.
  if (sources.buildArgs?.kind === "flag") return;
  if (settings.multipleBuildArgs) {
    if (isSet(sources.buildArgs) && settings.buildArgs.length > 0) {
      warnings.push(
        `${name("buildArgs")} is not used because ${name("multipleBuildArgs")} is true (as in the plugin): put every build arg in PLUGIN_BUILD_ARGS_NEW`,
      );
    }
    settings.buildArgs = settings.buildArgsNew;
    sources.buildArgs = withNote(sources.buildArgsNew, `as ${name("multipleBuildArgs")} is true`);
  } else if (settings.buildArgsNew.length > 0) {
    warnings.push(
      `${name("buildArgsNew")} is not used because PLUGIN_MULTIPLE_BUILD_ARGS is not true (as in the plugin): set PLUGIN_MULTIPLE_BUILD_ARGS=true to build with it`,
    );
  }
}

function registryFromLocation(resolved: ResolvedSettings): void {
  const { settings, sources } = resolved;
  const location = settings.location?.trim();
  if (!location || isSet(sources.registry)) return;
  settings.registry = `${location}-docker.pkg.dev`;
  sources.registry = withNote(sources.location, "LOCATION-docker.pkg.dev");
}

function joinRepository(resolved: ResolvedSettings): void {
  const { settings, sources, warnings } = resolved;
  const repo = settings.repo?.trim();
  if (!repo || !isSet(sources.registry)) return;
  const registry = settings.registry;
  const registryHost = normalizeRegistryHost(registry);
  const kind = registryKindOf(settings.registryType, registry);
  if (!kind) {
    // A Docker registry step: the plugin pushes a bare repo to Docker Hub; PLUGIN_REGISTRY is only the login.
    if (registryHostOf(repo) === undefined && registryHost !== DOCKER_HUB) {
      const hub = `docker.io/${repo.includes("/") ? repo : `library/${repo}`}`;
      warnings.push(
        `${settingName("repo", sources)}=${repo} names no registry, so the image goes to Docker Hub (${hub}), not to ${settingName("registry", sources)}=${registry}, which is only where the login goes (as in the plugin). To push to that registry write ${settingName("repo", sources)}=${registryPrefixOf(registry)}/${repo}`,
      );
    }
    return;
  }
  const joined = joinRepo(kind.kind, registry, repo);
  if (joined.kind === "joined") {
    settings.repo = joined.repo;
    sources.repo = withNote(
      sources.repo,
      `joined with ${settingName("registry", sources)} (${kind.because})`,
    );
  } else if (joined.kind === "other-registry") {
    warnings.push(
      `${settingName("repo", sources)}=${repo} names the registry ${joined.repoHost}, not ${settingName("registry", sources)}=${registry}: the image goes to ${joined.repoHost} as written (the plugin's ${kind.kind.toUpperCase()} wrapper would push to ${registryPrefixOf(registry)}/${repo})`,
    );
  }
}

function pushOnlyOverDryRun(resolved: ResolvedSettings): void {
  const { settings, sources, warnings } = resolved;
  if (!settings.pushOnly || !settings.dryRun) return;
  warnings.push(
    `${settingName("pushOnly", sources)} and ${settingName("dryRun", sources)} are both true: this step pushes (push-only wins, as in the plugin); unset one of them to silence this`,
  );
  settings.dryRun = false;
  sources.dryRun = withNote(sources.dryRun, `overridden by ${settingName("pushOnly", sources)}`);
}

/** Applies the plugin's cross-setting rules to freshly merged settings (in place). */
export function applyPluginRules(resolved: ResolvedSettings): void {
  chooseBuildArgs(resolved);
  registryFromLocation(resolved);
  joinRepository(resolved);
  pushOnlyOverDryRun(resolved);
}
