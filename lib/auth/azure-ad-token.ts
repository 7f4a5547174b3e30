/**
 * An Azure AD (Microsoft Entra ID) access token for a service principal, by the OAuth 2.0 client credentials
 * grant at `{authority}/{tenant}/oauth2/v2.0/token`, with the principal's secret or a signed client assertion
 * (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow). The scope is
 * Azure Resource Manager's, as drone-buildx-acr asks for it: ACR checks the principal's roles on the registry
 * with that token when it is exchanged (Azure/acr docs/AAD-OAuth.md).
 */
import { StepFailure } from "../errors.js";
import { type FormPostAnswer, jsonObjectOf, postForm } from "./form-post.js";

/** The scope drone-buildx-acr requests (Azure Resource Manager). */
export const AZURE_MANAGEMENT_SCOPE = "https://management.azure.com/.default";
/** RFC 7523's assertion type for a JWT that authenticates the client. */
const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** How the service principal proves itself: its secret, or a JWT signed with its certificate's key. */
export type ClientProof = { secret: string } | { assertion: string };

/** `{authority}/{tenant}/oauth2/v2.0/token`. The tenant was checked to be letters, digits, `-` and `.`. Pure. */
export function aadTokenEndpoint(authorityHost: string, tenantId: string): URL {
  return new URL(`${authorityHost.replace(/\/+$/, "")}/${encodeURIComponent(tenantId)}/oauth2/v2.0/token`);
}

/** The client credentials grant's form. Pure. */
export function clientCredentialsForm(clientId: string, proof: ClientProof, scope = AZURE_MANAGEMENT_SCOPE) {
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, scope });
  if ("secret" in proof) {
    form.set("client_secret", proof.secret);
  } else {
    form.set("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
    form.set("client_assertion", proof.assertion);
  }
  return form;
}

/**
 * What an OAuth error answer says (`error`, and the first line of `error_description`, where Azure AD puts
 * its AADSTS code), for a message. Never the request: the answer holds no secret of ours, and is masked anyway.
 */
export function oauthErrorSummary(answer: FormPostAnswer): string {
  const json = jsonObjectOf(answer);
  const error = typeof json?.error === "string" ? json.error : "";
  const description =
    typeof json?.error_description === "string" ? (json.error_description.split(/\r?\n/)[0] ?? "") : "";
  const text = [error, description].filter(Boolean).join(": ");
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}

interface AadTokenRequest {
  endpoint: URL;
  clientId: string;
  proof: ClientProof;
  /** Masks registered secrets in text from the endpoint. */
  mask: (text: string) => string;
  /** Which settings to check when the token is refused. */
  hint: string;
  timeoutMs?: number;
}

/** Asks Azure AD for the access token; StepFailure (exit 1) naming the endpoint and status when refused. */
export async function requestAadToken(request: AadTokenRequest): Promise<string> {
  const endpoint = `POST ${request.endpoint.origin}${request.endpoint.pathname}`;
  const answer = await postForm(request.endpoint, clientCredentialsForm(request.clientId, request.proof), {
    what: "Azure AD token request",
    tlsHint: "a private Azure AD authority's CA goes in NODE_EXTRA_CA_CERTS",
    ...(request.timeoutMs ? { timeoutMs: request.timeoutMs } : {}),
  });
  const token = jsonObjectOf(answer)?.access_token;
  if (answer.status === 200 && typeof token === "string" && token !== "") return token;
  const said = request.mask(oauthErrorSummary(answer));
  const what =
    answer.status === 200
      ? "answered 200 without an access_token"
      : `refused the service principal: HTTP ${answer.status}${said ? ` ${said}` : ""}`;
  throw new StepFailure(`Azure AD (${endpoint}) ${what}; ${request.hint}`);
}
