/**
 * Which AWS credentials a run uses, from the plugin's settings, in the order the Drone ECR plugins apply them
 * (https://github.com/drone-plugins/drone-buildx/blob/master/cmd/drone-ecr/main.go): web identity (OIDC) when
 * a token and a role are given; otherwise a role assumed from the base credentials (with its external id);
 * otherwise static keys, a named profile from the shared files, or the SDK's default chain (environment,
 * shared files, container and instance roles).
 */
import {
  fromIni,
  fromNodeProviderChain,
  fromTemporaryCredentials,
  fromWebToken,
} from "@aws-sdk/credential-providers";
import type { Settings } from "../config/settings.js";
import { UsageError } from "../errors.js";

type AwsCredentials = Awaited<ReturnType<ReturnType<typeof fromNodeProviderChain>>>;
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

type AwsCredentialMode = "web-identity" | "assume-role" | "static" | "profile" | "default-chain";

type AwsSettings = Pick<
  Settings,
  "accessKey" | "secretKey" | "assumeRole" | "externalId" | "oidcTokenId" | "awsProfile" | "region" | "run"
>;

/** The credential mode the settings ask for. Pure; UsageError for combinations that cannot work. */
export function awsCredentialMode(settings: AwsSettings): AwsCredentialMode {
  const hasKey = Boolean(settings.accessKey);
  const hasSecret = Boolean(settings.secretKey);
  if (hasKey !== hasSecret) {
    throw new UsageError(
      `${hasKey ? "PLUGIN_ACCESS_KEY is set without PLUGIN_SECRET_KEY" : "PLUGIN_SECRET_KEY is set without PLUGIN_ACCESS_KEY"}: set both, or neither to use the default AWS credentials`,
    );
  }
  if (settings.oidcTokenId) {
    if (!settings.assumeRole) {
      throw new UsageError(
        "PLUGIN_OIDC_TOKEN_ID needs PLUGIN_ASSUME_ROLE: the OIDC token is exchanged for that role's credentials (AssumeRoleWithWebIdentity)",
      );
    }
    return "web-identity";
  }
  if (settings.externalId && !settings.assumeRole) {
    throw new UsageError("PLUGIN_EXTERNAL_ID is only used with PLUGIN_ASSUME_ROLE: set the role to assume");
  }
  if (settings.assumeRole) return "assume-role";
  if (hasKey) return "static";
  if (settings.awsProfile) return "profile";
  return "default-chain";
}

/** The AWS step that obtains credentials in a mode, for error messages. */
export function credentialStepName(mode: AwsCredentialMode): string {
  switch (mode) {
    case "web-identity":
      return "STS AssumeRoleWithWebIdentity";
    case "assume-role":
      return "STS AssumeRole";
    case "static":
      return "PLUGIN_ACCESS_KEY/PLUGIN_SECRET_KEY";
    case "profile":
      return "shared config profile";
    case "default-chain":
      return "default credential chain";
  }
}

/** What to check when the credentials of a mode are refused or cannot be had. */
export function credentialHint(mode: AwsCredentialMode): string {
  switch (mode) {
    case "web-identity":
      return "check PLUGIN_OIDC_TOKEN_ID (it may have expired) and that the trust policy of PLUGIN_ASSUME_ROLE accepts this identity provider";
    case "assume-role":
      return "check PLUGIN_ASSUME_ROLE and PLUGIN_EXTERNAL_ID, and that the base credentials may assume the role";
    case "static":
      return "check PLUGIN_ACCESS_KEY and PLUGIN_SECRET_KEY";
    case "profile":
      return "check PLUGIN_AWS_PROFILE and the shared files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE)";
    case "default-chain":
      return "set PLUGIN_ACCESS_KEY and PLUGIN_SECRET_KEY, PLUGIN_ASSUME_ROLE with PLUGIN_OIDC_TOKEN_ID, or PLUGIN_AWS_PROFILE, or run where an instance or container role is available";
  }
}

/** A role session name AWS accepts (`[\w+=,.@-]{2,64}`), naming the tool and the build. */
export function roleSessionName(settings: Pick<Settings, "run">): string {
  const build = (settings.run.buildNumber ?? "").replace(/[^\w+=,.@-]/g, "");
  return `buildx-step${build ? `-${build}` : ""}`.slice(0, 64);
}

interface AwsCredentialOptions {
  /**
   * The run's environment. When the keys came from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` (the
   * settings accept them as aliases), `AWS_SESSION_TOKEN` belongs to them and is sent too.
   */
  env?: NodeJS.ProcessEnv;
  /** Registers every secret the provider learns (assumed roles' keys and session tokens). */
  addSecret?: (value: string | undefined) => void;
}

/** The base credentials: static keys, a profile, or the default chain. */
function baseProvider(settings: AwsSettings, region: string, env: NodeJS.ProcessEnv): AwsCredentialProvider {
  if (settings.accessKey && settings.secretKey) {
    const sessionToken =
      env.AWS_SESSION_TOKEN && env.AWS_ACCESS_KEY_ID === settings.accessKey
        ? env.AWS_SESSION_TOKEN
        : undefined;
    const credentials = {
      accessKeyId: settings.accessKey,
      secretAccessKey: settings.secretKey,
      ...(sessionToken ? { sessionToken } : {}),
    };
    return async () => credentials;
  }
  if (settings.awsProfile) return fromIni({ profile: settings.awsProfile, clientConfig: { region } });
  return fromNodeProviderChain({ clientConfig: { region } });
}

/**
 * The provider for the settings' mode. Credentials are fetched once and cached by the SDK's providers
 * until they expire; every secret they hold is registered for masking as soon as it is known.
 */
export function awsCredentialProvider(
  settings: AwsSettings,
  region: string,
  options: AwsCredentialOptions = {},
): AwsCredentialProvider {
  // The SDK warns on stderr, once per process, that its future versions will need a newer Node.js: advice for
  // this tool's maintainers, not for the pipeline whose log it would land in. A user's explicit setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const mode = awsCredentialMode(settings);
  let provider: AwsCredentialProvider;
  switch (mode) {
    case "web-identity":
      provider = fromWebToken({
        roleArn: settings.assumeRole ?? "",
        webIdentityToken: settings.oidcTokenId ?? "",
        roleSessionName: roleSessionName(settings),
        clientConfig: { region },
      });
      break;
    case "assume-role":
      provider = fromTemporaryCredentials({
        params: {
          RoleArn: settings.assumeRole ?? "",
          RoleSessionName: roleSessionName(settings),
          ...(settings.externalId ? { ExternalId: settings.externalId } : {}),
        },
        masterCredentials: baseProvider(settings, region, options.env ?? {}),
        clientConfig: { region },
      });
      break;
    default:
      provider = baseProvider(settings, region, options.env ?? {});
  }
  let cached: Promise<AwsCredentials> | undefined;
  return async () => {
    if (!cached) cached = provider();
    const current = await cached;
    // Refresh near expiry, as the SDK's own cache would: a long build may outlive short-lived role keys.
    if (current.expiration && current.expiration.getTime() - Date.now() < 60_000) {
      cached = provider();
      return register(await cached, options);
    }
    return register(current, options);
  };
}

function register(credentials: AwsCredentials, options: AwsCredentialOptions): AwsCredentials {
  options.addSecret?.(credentials.secretAccessKey);
  options.addSecret?.(credentials.sessionToken);
  options.addSecret?.(credentials.accessKeyId);
  return credentials;
}
