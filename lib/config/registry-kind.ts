/**
 * Which kind of registry a run pushes to, and the image name that follows from it. Harness's Build and Push
 * steps send the registry and a bare image name apart (harness-core PluginSettingUtils: ECR
 * `PLUGIN_REGISTRY=<account>.dkr.ecr.<region>.amazonaws.com` + `PLUGIN_REPO=<imageName>`; GCR and GAR
 * `PLUGIN_REGISTRY=<host>/<project>` + `PLUGIN_REPO=<imageName>`), and the plugin's per-registry wrappers
 * (drone-buildx-ecr, -gcr, -gar, -acr) join them: the repository is `registry/repo` unless the repo already
 * starts with the registry. The plain plugin (a Docker registry step) never joins: a bare repo goes to
 * Docker Hub whatever PLUGIN_REGISTRY says, which only chooses where the login goes. Pure functions.
 */
import { normalizeRegistryHost, registryHostOf } from "../reference/host.js";

type RegistryKind = "ecr" | "gcr" | "gar" | "acr";

/** How the kind was told: by `PLUGIN_REGISTRY_TYPE`, or by the registry's host name. */
interface KindOfRegistry {
  kind: RegistryKind;
  /** For messages: `PLUGIN_REGISTRY_TYPE=gar`, `the ECR host in PLUGIN_REGISTRY`. */
  because: string;
}

const KIND_NAMES: Readonly<Record<string, RegistryKind>> = {
  ecr: "ecr",
  gcr: "gcr",
  gar: "gar",
  acr: "acr",
};

/** The registry as the wrappers join it: without a scheme and without trailing slashes. */
export function registryPrefixOf(registry: string): string {
  return registry
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
    .replace(/\/+$/, "");
}

/** The kind a host name says (ECR private and public, GCR, Artifact Registry, ACR); undefined for others. */
export function kindOfHost(host: string): RegistryKind | undefined {
  const name = host.replace(/:\d+$/, "");
  if (/^\d{12}\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?$/.test(name)) return "ecr";
  if (name === "public.ecr.aws") return "ecr";
  if (name === "gcr.io" || name.endsWith(".gcr.io")) return "gcr";
  if (/(^|[.-])docker\.pkg\.dev$/.test(name)) return "gar";
  if (/\.azurecr\.(io|cn|us)$/.test(name)) return "acr";
  return undefined;
}

/**
 * The run's registry kind: `PLUGIN_REGISTRY_TYPE` when it names one (the wrappers set it: GCR, GAR, ACR;
 * Harness's GAR step sends `gar`), else what `PLUGIN_REGISTRY`'s host says. `Docker` or an unknown type is
 * no kind: the repo is used as it is.
 */
export function registryKindOf(
  registryType: string | undefined,
  registry: string | undefined,
): KindOfRegistry | undefined {
  const typed = registryType?.trim().toLowerCase() ?? "";
  if (typed !== "") {
    const kind = KIND_NAMES[typed];
    return kind ? { kind, because: `PLUGIN_REGISTRY_TYPE=${registryType?.trim()}` } : undefined;
  }
  const kind = registry ? kindOfHost(normalizeRegistryHost(registry)) : undefined;
  return kind ? { kind, because: `the ${kind.toUpperCase()} host in PLUGIN_REGISTRY` } : undefined;
}

type RepoJoin =
  /** The repo is used as it is (it already starts with the registry, or the kind does not join). */
  | { kind: "as-is" }
  /** The wrapper's join: `registry/repo`. */
  | { kind: "joined"; repo: string }
  /** The repo names another registry: the wrapper would make `registry/other-host/app`; not done here. */
  | { kind: "other-registry"; repoHost: string };

/**
 * What the wrapper of `kind` makes of `repo` and `registry`: ECR and ACR join with `registry + "/" + repo`,
 * GCR and GAR with a path join (duplicate slashes removed), all only when the repo does not already start
 * with the registry. A repo whose first component is another registry's host is left alone (the wrapper
 * would push to `registry/that-host/...`, which no one means).
 *
 * The wrappers' Go path.Join also resolves `.` and `..`: `x/../../../evil.example/app` joined to
 * `gcr.io/project` is `evil.example/app`, and `gcr.io/..` with `app` is Docker Hub's `app`, an image that
 * leaves the registry it was joined to. Such segments are kept here, and the name they make is refused.
 */
export function joinRepo(kind: RegistryKind, registry: string, repo: string): RepoJoin {
  const prefix = registryPrefixOf(registry);
  const trimmed = repo.trim();
  if (prefix === "" || trimmed === "" || trimmed.startsWith(prefix)) return { kind: "as-is" };
  const repoHost = registryHostOf(trimmed);
  if (repoHost !== undefined) return { kind: "other-registry", repoHost };
  const joined =
    kind === "gcr" || kind === "gar"
      ? `${prefix}/${trimmed}`.replace(/\/{2,}/g, "/").replace(/\/+$/, "")
      : `${prefix}/${trimmed}`;
  return { kind: "joined", repo: joined };
}
