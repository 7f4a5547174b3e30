/**
 * Which registry is Amazon ECR, from its host or `PLUGIN_REGISTRY_TYPE`: pure, and free of the AWS SDK, so a
 * run that does not push to ECR never loads the SDK (hundreds of milliseconds of start-up).
 * Private registries are `ACCOUNT.dkr.ecr[-fips].REGION.amazonaws.com[.cn]`; public ECR is `public.ecr.aws`,
 * whose API lives in us-east-1 only.
 */
import type { Settings } from "../config/settings.js";
import { registryHostOf } from "../reference/host.js";
import { credentialHost, namedRegistry } from "./hosts.js";

const PRIVATE_ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;
const PUBLIC_ECR_HOST = "public.ecr.aws";
/** ECR Public's API is served from this region only. */
export const PUBLIC_ECR_REGION = "us-east-1";

/** An ECR registry: where its API is and which account owns it. */
export interface EcrRegistry {
  /** `host[:port]` the image is pushed to (normalised). */
  host: string;
  public: boolean;
  /** The API's region: from the host when it has one, else the settings' region. */
  region: string;
  /** The account in the host, when the host has one. */
  accountId?: string;
}

/** What a host says about ECR: account and region for private ECR, `public` for ECR Public. Pure. */
export function parseEcrHost(
  registry: string,
): { accountId?: string; region?: string; public: boolean } | undefined {
  const host = credentialHost(registry);
  if (host === PUBLIC_ECR_HOST) return { public: true };
  const match = PRIVATE_ECR_HOST.exec(host);
  if (!match) return undefined;
  return { accountId: match[1], region: match[2], public: false };
}

/**
 * The ECR registry of a run, or undefined when the run does not push to ECR: `PLUGIN_REGISTRY` or the
 * registry in `PLUGIN_REPO` is an ECR host, or `PLUGIN_REGISTRY_TYPE=ECR` says the registry is ECR whatever
 * its name (a proxy, a custom domain): then the registry of `PLUGIN_REPO`, else `PLUGIN_REGISTRY`. Pure.
 */
export function ecrRegistryOf(
  settings: Pick<Settings, "registry" | "repo" | "registryType" | "region">,
): EcrRegistry | undefined {
  const fromRepo = registryHostOf(settings.repo?.trim());
  // PLUGIN_REGISTRY defaults to Docker Hub, which is never ECR: only a registry the user named counts.
  const fromSetting = namedRegistry(settings.registry);
  const typed = (settings.registryType ?? "").trim().toUpperCase();
  let named: string | undefined;
  let parsed: ReturnType<typeof parseEcrHost>;
  for (const candidate of [fromRepo, fromSetting]) {
    const ecr = candidate ? parseEcrHost(candidate) : undefined;
    if (candidate && ecr) {
      named = candidate;
      parsed = ecr;
      break;
    }
  }
  if (!named) {
    if (typed !== "ECR") return undefined;
    named = fromRepo ?? fromSetting;
    if (!named) return undefined;
  }
  const isPublic = parsed?.public ?? false;
  return {
    host: credentialHost(named),
    public: isPublic,
    region: isPublic ? PUBLIC_ECR_REGION : (parsed?.region ?? (settings.region || "us-east-1")),
    ...(parsed?.accountId ? { accountId: parsed.accountId } : {}),
  };
}
