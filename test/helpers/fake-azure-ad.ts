/**
 * Azure AD's (Microsoft Entra ID's) v2.0 token endpoint on loopback, speaking its wire protocol for the
 * client credentials grant (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow):
 * `POST /{tenant}/oauth2/v2.0/token`, a form with `grant_type=client_credentials`, `client_id`, `scope` and
 * the client's `client_secret`, or a `client_assertion` signed with its certificate
 * (https://learn.microsoft.com/entra/identity-platform/certificate-credentials), which is verified here as
 * Azure AD verifies it: RS256, `x5t` the registered certificate's SHA-1 thumbprint, the signature checked
 * with that certificate's public key, `aud` this very endpoint, `iss` = `sub` = the client id, a `jti` not
 * seen before, and a time range that holds now. Answers `{"token_type": "Bearer", "expires_in",
 * "access_token"}`, or an OAuth error (`error`, `error_description` with an AADSTS code) with its status.
 *
 * It serves HTTPS with a CA of its own (the tool only sends secrets over https), which a test trusts through
 * NODE_EXTRA_CA_CERTS, as a runner trusts a private authority. Every request is recorded; every access
 * token issued is remembered with its tenant and client, so a fake ACR exchange can accept exactly those.
 */
import { createHash, randomBytes, verify, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { makeCertificates } from "./registry.js";
import { tempDir } from "./tmp.js";

/** The scope drone-buildx-acr asks for. */
export const MANAGEMENT_SCOPE = "https://management.azure.com/.default";

export interface FakeAzureApp {
  tenant: string;
  clientId: string;
  /** The application's client secret. */
  secret?: string;
  /** The application's certificate (PEM): its key signs the client assertions. */
  certificatePem?: string;
  /**
   * OIDC tokens of a CI that the application's federated credential trusts (workload identity federation):
   * such a token is the client assertion itself. Azure AD checks its issuer, subject and audience against
   * the federated credential; here the token is simply known.
   */
  federatedTokens?: string[];
}

/** A client assertion as the endpoint read it. */
export interface SeenAssertion {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

export interface AadRequestRecord {
  tenant: string;
  form: Record<string, string>;
  /** The client assertion, decoded (when the form had one). */
  assertion?: SeenAssertion;
  /** "ok", or the AADSTS code of the refusal. */
  outcome: string;
  status: number;
}

export interface IssuedToken {
  tenant: string;
  clientId: string;
}

export interface FakeAzureAd {
  /** What AZURE_AUTHORITY_HOST is set to: `https://127.0.0.1:PORT`. */
  url: string;
  /** The CA of the endpoint's certificate (for NODE_EXTRA_CA_CERTS). */
  caFile: string;
  requests: AadRequestRecord[];
  /** Access tokens issued, and to whom. */
  issued: Map<string, IssuedToken>;
  stop(): Promise<void>;
}

class AadError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly code: string,
    description: string,
  ) {
    super(`${code}: ${description}`);
  }
}

function readForm(request: IncomingMessage): Promise<Record<string, string>> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () =>
      resolve(Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()))),
    );
    request.on("error", reject);
  });
}

/** Starts the endpoint for these applications. Stop it when done. */
export async function startFakeAzureAd(options: { apps: FakeAzureApp[] }): Promise<FakeAzureAd> {
  const dir = await tempDir("fake-azure-ad-");
  const certs = makeCertificates(dir.path);
  const requests: AadRequestRecord[] = [];
  const issued = new Map<string, IssuedToken>();
  const tenants = new Set(options.apps.map((app) => app.tenant));
  const seenJti = new Set<string>();
  let url = "";

  const invalidAssertion = (code: string, description: string) =>
    new AadError(401, "invalid_client", code, description);

  /** Verifies a client assertion for `app`, as Azure AD does. */
  const checkAssertion = (app: FakeAzureApp, tenant: string, jwt: string, record: AadRequestRecord) => {
    const parts = jwt.split(".");
    const decode = (part: string | undefined) =>
      JSON.parse(Buffer.from(part ?? "", "base64url").toString("utf8"));
    let header: Record<string, unknown>;
    let claims: Record<string, unknown>;
    try {
      if (parts.length !== 3) throw new Error("not three parts");
      header = decode(parts[0]);
      claims = decode(parts[1]);
    } catch {
      throw invalidAssertion("AADSTS50027", "JWT token is invalid or malformed.");
    }
    record.assertion = { header, claims };
    if (!app.certificatePem) {
      throw invalidAssertion(
        "AADSTS700027",
        "The certificate with identifier used to sign the client assertion is not registered on application.",
      );
    }
    const certificate = new X509Certificate(app.certificatePem);
    const thumbprint = createHash("sha1").update(certificate.raw).digest("base64url");
    if (header.alg !== "RS256" || header.typ !== "JWT") {
      throw invalidAssertion(
        "AADSTS5002738",
        `Invalid JWT token. '${String(header.alg)}' is not a supported signature algorithm.`,
      );
    }
    if (header.x5t !== thumbprint) {
      throw invalidAssertion(
        "AADSTS700027",
        `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${String(header.x5t)}']`,
      );
    }
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`, "ascii");
    if (!verify("sha256", signed, certificate.publicKey, Buffer.from(parts[2] ?? "", "base64url"))) {
      throw invalidAssertion("AADSTS7000274", "Client assertion failed signature validation.");
    }
    const audience = `${url}/${tenant}/oauth2/v2.0/token`;
    if (claims.aud !== audience) {
      throw invalidAssertion(
        "AADSTS700212",
        `No matching federated identity record found for presented assertion audience '${String(claims.aud)}'.`,
      );
    }
    if (claims.iss !== app.clientId || claims.sub !== app.clientId) {
      throw invalidAssertion(
        "AADSTS700021",
        "Client assertion application identifier doesn't match 'client_id' parameter.",
      );
    }
    if (typeof claims.jti !== "string" || claims.jti === "" || seenJti.has(claims.jti)) {
      throw invalidAssertion(
        "AADSTS700025",
        "Client assertion contains a jti that is missing or was used before.",
      );
    }
    seenJti.add(claims.jti);
    const now = Date.now() / 1000;
    const nbf = Number(claims.nbf);
    const exp = Number(claims.exp);
    if (!(nbf <= now + 60 && exp > now && exp - nbf <= 3600)) {
      throw invalidAssertion("AADSTS700024", "Client assertion is not within its valid time range.");
    }
  };

  const authenticate = (
    tenant: string,
    form: Record<string, string>,
    record: AadRequestRecord,
  ): FakeAzureApp => {
    if (!tenants.has(tenant)) {
      throw new AadError(
        400,
        "invalid_request",
        "AADSTS90002",
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    }
    if (form.grant_type !== "client_credentials") {
      throw new AadError(
        400,
        "unsupported_grant_type",
        "AADSTS70003",
        "The app requested an unsupported grant type.",
      );
    }
    const app = options.apps.find((a) => a.tenant === tenant && a.clientId === form.client_id);
    if (!app) {
      throw new AadError(
        400,
        "unauthorized_client",
        "AADSTS700016",
        `Application with identifier '${form.client_id}' was not found in the directory '${tenant}'.`,
      );
    }
    if (form.scope !== MANAGEMENT_SCOPE) {
      throw new AadError(
        400,
        "invalid_scope",
        "AADSTS1002012",
        `The provided value for scope ${form.scope} is not valid.`,
      );
    }
    if (form.client_assertion !== undefined) {
      if (form.client_assertion_type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
        throw new AadError(400, "invalid_request", "AADSTS50027", "client_assertion_type is not jwt-bearer.");
      }
      if (app.federatedTokens?.includes(form.client_assertion)) return app;
      checkAssertion(app, tenant, form.client_assertion, record);
      return app;
    }
    if (form.client_secret === undefined) {
      throw new AadError(
        401,
        "invalid_client",
        "AADSTS7000216",
        "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.",
      );
    }
    if (app.secret === undefined || form.client_secret !== app.secret) {
      throw new AadError(
        401,
        "invalid_client",
        "AADSTS7000215",
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
      );
    }
    return app;
  };

  const server: Server = createServer(
    { cert: readFileSync(certs.cert), key: readFileSync(certs.key) },
    async (request: IncomingMessage, response: ServerResponse) => {
      const url = new URL(request.url ?? "/", "https://fake");
      const match = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(url.pathname);
      if (request.method !== "POST" || !match) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end('{"error":"not_found"}');
        return;
      }
      const tenant = decodeURIComponent(match[1] ?? "");
      const form = await readForm(request);
      const record: AadRequestRecord = { tenant, form, outcome: "ok", status: 200 };
      requests.push(record);
      try {
        const app = authenticate(tenant, form, record);
        const accessToken = `aad-access-${randomBytes(16).toString("hex")}`;
        issued.set(accessToken, { tenant, clientId: app.clientId });
        response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
        response.end(
          JSON.stringify({
            token_type: "Bearer",
            expires_in: 3599,
            ext_expires_in: 3599,
            access_token: accessToken,
          }),
        );
      } catch (error) {
        const e =
          error instanceof AadError ? error : new AadError(500, "server_error", "AADSTS50000", String(error));
        record.outcome = e.code;
        record.status = e.status;
        response.writeHead(e.status, { "content-type": "application/json; charset=utf-8" });
        response.end(
          JSON.stringify({
            error: e.error,
            error_description: `${e.message}\r\nTrace ID: ${randomBytes(8).toString("hex")}\r\nTimestamp: ${new Date().toISOString()}`,
            error_codes: [Number(e.code.replace("AADSTS", ""))],
          }),
        );
      }
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    caFile: certs.ca,
    requests,
    issued,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await dir.remove();
    },
  };
}
