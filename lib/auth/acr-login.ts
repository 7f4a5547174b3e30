/**
 * The ACR login of drone-buildx-acr for a service principal: an Azure AD access token by the client
 * credentials grant (azure-ad-token.ts), with the CI's OIDC token as a federated assertion, the principal's
 * secret, or an assertion signed with its certificate (client-assertion.ts, loaded only for one), exchanged at the registry's `/oauth2/exchange` for an ACR refresh
 * token (acr-exchange.ts), which logs in as the null-GUID user. Loaded only when such a login is asked for:
 * no other run pays for it. Every secret and token is registered with the logger before it is sent or kept.
 */
import { UsageError } from "../errors.js";
import type { Credential } from "../registry/credential.js";
import { trustedCas, verifiesCertificate } from "../registry/transport.js";
import { exchangeForAcrRefreshToken } from "./acr-exchange.js";
import { aadTokenEndpoint, type ClientProof, requestAadToken } from "./azure-ad-token.js";
import { ACR_REFRESH_TOKEN_USER, type CloudLogin } from "./cloud-login.js";

type AzureAdLogin = Extract<CloudLogin, { kind: "azure-ad" }>;

interface AcrLoginContext {
  addSecret: (value: string | undefined) => void;
  mask: (text: string) => string;
  info: (message: string) => void;
  /** The registry's TLS settings (PLUGIN_REGISTRY_CA, PLUGIN_INSECURE): the exchange is at the registry. */
  registryCa?: string;
  insecure: boolean;
  env: NodeJS.ProcessEnv;
  /** Deadline of each request (default: form-post.ts's). */
  timeoutMs?: number;
}

/** How the service principal proves itself to Azure AD: an OIDC token, its secret, or an assertion signed with its certificate. */
async function proofFor(
  login: AzureAdLogin,
  endpoint: URL,
  addSecret: AcrLoginContext["addSecret"],
): Promise<ClientProof> {
  // Workload identity federation: the CI's OIDC token is the assertion (drone-buildx-acr's OIDC path).
  if (login.federatedToken) return { assertion: login.federatedToken };
  if (login.clientSecret) return { secret: login.clientSecret };
  const { clientAssertion, parseClientCertificate } = await import("./client-assertion.js");
  const parsed = parseClientCertificate(login.clientCertificate ?? "");
  // Checked with the other settings before the run (checkCloudLogin): this only fails if called around it.
  if (!parsed.ok) throw new UsageError(`CLIENT_CERTIFICATE ${parsed.reason}`);
  const assertion = clientAssertion(parsed.value, { clientId: login.clientId, audience: endpoint.href });
  addSecret(assertion);
  return { assertion };
}

/** Logs in to the registry as the service principal: the null-GUID user and an ACR refresh token. */
export async function acrLogin(login: AzureAdLogin, context: AcrLoginContext): Promise<Credential> {
  context.addSecret(login.clientSecret);
  context.addSecret(login.clientCertificate);
  context.addSecret(login.federatedToken);
  const host = login.registry.host;
  const endpoint = aadTokenEndpoint(login.authorityHost, login.tenantId);
  context.info(
    `logging in to ${host} as service principal ${login.clientId}: Azure AD token from ${endpoint.origin} (tenant ${login.tenantId}), exchanged at https://${host}/oauth2/exchange`,
  );
  const proof = await proofFor(login, endpoint, context.addSecret);
  const aadToken = await requestAadToken({
    endpoint,
    clientId: login.clientId,
    proof,
    mask: context.mask,
    hint: `check ${login.via} (and AZURE_AUTHORITY_HOST for another Azure cloud)`,
    ...(context.timeoutMs ? { timeoutMs: context.timeoutMs } : {}),
  });
  context.addSecret(aadToken);
  const tls = { caFile: context.registryCa, insecure: context.insecure, env: context.env };
  const ca = trustedCas(tls);
  const refreshToken = await exchangeForAcrRefreshToken({
    registryHost: host,
    tenantId: login.tenantId,
    aadAccessToken: aadToken,
    ...(ca ? { ca } : {}),
    verify: verifiesCertificate(host, tls),
    mask: context.mask,
    ...(context.timeoutMs ? { timeoutMs: context.timeoutMs } : {}),
  });
  context.addSecret(refreshToken);
  return { username: ACR_REFRESH_TOKEN_USER, password: refreshToken };
}
