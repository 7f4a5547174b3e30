/**
 * ACR's exchange of an Azure AD access token for an ACR refresh token: `POST https://{registry}/oauth2/exchange`
 * with the form `grant_type=access_token`, `service={registry}`, `tenant`, `access_token`, answered with
 * `{"refresh_token": "..."}` (Azure/acr docs/AAD-OAuth.md, "Calling POST /oauth2/exchange"). The refresh
 * token is then the registry password of the null-GUID user, as `az acr login` and drone-buildx-acr use it.
 * The endpoint is the registry itself, so it is reached with the registry's TLS settings.
 */
import { StepFailure } from "../errors.js";
import { type FormPostAnswer, jsonObjectOf, postForm } from "./form-post.js";

/** `https://{registry}/oauth2/exchange`. Pure. */
export function acrExchangeEndpoint(registryHost: string): URL {
  return new URL(`https://${registryHost}/oauth2/exchange`);
}

/** The exchange's form. Pure. */
export function acrExchangeForm(
  registryHost: string,
  tenantId: string,
  aadAccessToken: string,
): URLSearchParams {
  return new URLSearchParams({
    grant_type: "access_token",
    service: registryHost,
    tenant: tenantId,
    access_token: aadAccessToken,
  });
}

/** What an ACR error answer says: `{"errors": [{"code", "message"}]}` (the distribution spec's shape). */
function acrErrorSummary(answer: FormPostAnswer): string {
  const errors = jsonObjectOf(answer)?.errors;
  const first = Array.isArray(errors)
    ? (errors[0] as { code?: unknown; message?: unknown } | undefined)
    : undefined;
  const text = [first?.code, first?.message].filter((v) => typeof v === "string" && v !== "").join(": ");
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

interface AcrExchangeRequest {
  registryHost: string;
  tenantId: string;
  aadAccessToken: string;
  /** CAs to trust for the registry (PLUGIN_REGISTRY_CA), or undefined for Node's. */
  ca?: string[];
  /** Verify the registry's certificate (false with PLUGIN_INSECURE, as for the registry's other requests). */
  verify: boolean;
  mask: (text: string) => string;
  timeoutMs?: number;
}

/** Exchanges the AAD token; StepFailure (exit 1) naming the endpoint and status when refused. */
export async function exchangeForAcrRefreshToken(request: AcrExchangeRequest): Promise<string> {
  const url = acrExchangeEndpoint(request.registryHost);
  const answer = await postForm(
    url,
    acrExchangeForm(request.registryHost, request.tenantId, request.aadAccessToken),
    {
      what: "ACR token exchange",
      tlsHint: "give the registry's CA in PLUGIN_REGISTRY_CA",
      ...(request.ca ? { ca: request.ca } : {}),
      verify: request.verify,
      ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
    },
  );
  const token = jsonObjectOf(answer)?.refresh_token;
  if (answer.status === 200 && typeof token === "string" && token !== "") return token;
  const said = request.mask(acrErrorSummary(answer));
  const what =
    answer.status === 200
      ? "answered 200 without a refresh_token"
      : `refused the Azure AD token: HTTP ${answer.status}${said ? ` ${said}` : ""}`;
  throw new StepFailure(
    `ACR (POST ${url.origin}${url.pathname}) ${what}; the service principal needs a role on the registry that allows pushing (AcrPush), in the tenant TENANT_ID names`,
  );
}
