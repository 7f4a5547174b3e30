/**
 * Amazon ECR logins: the registry password from `GetAuthorizationToken` (a base64 "AWS:password" token
 * valid for 12 hours:
 * https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetAuthorizationToken.html), asked in the
 * registry's region (ECR Public's in us-east-1), once the AWS credentials are obtained; a failed AWS call
 * becomes a StepFailure naming the step. Which registry is ECR is ecr-registry.ts's (no AWS SDK there).
 */
import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import {
  ECRPUBLICClient,
  GetAuthorizationTokenCommand as GetPublicAuthorizationTokenCommand,
} from "@aws-sdk/client-ecr-public";
import { StepFailure } from "../errors.js";
import type { Credential } from "../registry/credential.js";
import {
  type AwsCredentialProvider,
  awsCredentialMode,
  credentialHint,
  credentialStepName,
} from "./aws-credentials.js";
import { type EcrRegistry, PUBLIC_ECR_REGION } from "./ecr-registry.js";

/** Decodes an authorization token (base64 "AWS:password"). Pure. */
export function decodeEcrToken(token: string): Credential {
  const decoded = Buffer.from(token, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new StepFailure('ECR GetAuthorizationToken returned a token that is not base64 of "user:password"');
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** AWS error codes that mean "these credentials are wrong, expired or not allowed". */
const AUTH_ERRORS =
  /^(CredentialsProviderError|InvalidSignatureException|SignatureDoesNotMatch|UnrecognizedClientException|InvalidClientTokenId|ExpiredToken(Exception)?|AccessDenied(Exception)?|InvalidIdentityToken|IDPRejectedClaim|ProviderError)$/;

function hintFor(settings: Parameters<typeof awsCredentialMode>[0]): string {
  try {
    return credentialHint(awsCredentialMode(settings));
  } catch {
    return "";
  }
}

/**
 * A failed AWS call as a StepFailure naming the step and AWS's error code. The message is AWS's own
 * (it names no secret), masked anyway; the credential mode helps the reader see which credentials were used.
 */
export function awsStepFailure(
  step: string,
  error: unknown,
  mask: (text: string) => string,
  settings?: Parameters<typeof awsCredentialMode>[0],
): StepFailure {
  const e = error as {
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const code = e?.Code ?? e?.name ?? "Error";
  const status = e?.$metadata?.httpStatusCode ? `, HTTP ${e.$metadata.httpStatusCode}` : "";
  let mode = "";
  if (settings) {
    try {
      mode = ` (AWS credentials: ${awsCredentialMode(settings)})`;
    } catch {
      mode = "";
    }
  }
  const message = mask(String(e?.message ?? error)).replace(/\.?\s*$/, "");
  const hint = settings && AUTH_ERRORS.test(code) ? `; ${hintFor(settings)}` : "";
  // No `cause`: the SDK's error carries the signed request, which is no one's business in a log.
  return new StepFailure(`ECR ${step} failed${mode}: ${code}${status}: ${message}${hint}`);
}

/**
 * Obtains the AWS credentials before the first ECR call, so that a failure names the step that failed
 * (AssumeRole, web identity, the default chain) rather than the ECR call that needed them.
 */
export async function ensureAwsCredentials(
  credentials: AwsCredentialProvider,
  mask: (text: string) => string,
  settings?: Parameters<typeof awsCredentialMode>[0],
): Promise<void> {
  try {
    await credentials();
  } catch (error) {
    const mode = settings ? awsCredentialMode(settings) : undefined;
    throw awsStepFailure(`credentials${mode ? ` (${credentialStepName(mode)})` : ""}`, error, mask, settings);
  }
}

/** Logs in to ECR: GetAuthorizationToken with the given credentials, as `AWS` + password. */
export async function ecrLogin(
  registry: EcrRegistry,
  credentials: AwsCredentialProvider,
  options: {
    addSecret: (value: string | undefined) => void;
    mask: (text: string) => string;
    settings?: Parameters<typeof awsCredentialMode>[0];
  },
): Promise<Credential> {
  await ensureAwsCredentials(credentials, options.mask, options.settings);
  let token: string | undefined;
  try {
    if (registry.public) {
      const client = new ECRPUBLICClient({ region: PUBLIC_ECR_REGION, credentials });
      const answer = await client.send(new GetPublicAuthorizationTokenCommand({}));
      token = answer.authorizationData?.authorizationToken;
    } else {
      const client = new ECRClient({ region: registry.region, credentials });
      const answer = await client.send(new GetAuthorizationTokenCommand({}));
      token = answer.authorizationData?.[0]?.authorizationToken;
    }
  } catch (error) {
    throw awsStepFailure("login (GetAuthorizationToken)", error, options.mask, options.settings);
  }
  if (!token) throw new StepFailure("ECR login (GetAuthorizationToken) returned no authorization data");
  options.addSecret(token);
  const credential = decodeEcrToken(token);
  options.addSecret(credential.password);
  return credential;
}
