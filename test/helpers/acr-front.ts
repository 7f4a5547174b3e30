/**
 * A registry that answers like Azure Container Registry's login server: a TLS reverse proxy, in the test's
 * process, in front of a real registry (htpasswd, TLS), that answers `POST /oauth2/exchange` itself and
 * forwards every other request unchanged (the Host header too, so upload Locations point back at it).
 * It serves the registry's own certificate (for 127.0.0.1, signed by the registry's CA), so the registry's
 * CA file is the CA of this front as well.
 *
 * The exchange follows Azure/acr docs/AAD-OAuth.md: a form with `grant_type=access_token`,
 * `service=<registry>`, `tenant` and `access_token`, answered `{"refresh_token": ...}`. It accepts only an
 * access token that the fake Azure AD issued, for the same tenant, to a client that has a role on the
 * registry; the refresh token it hands out is the registry's htpasswd password of the null-GUID user.
 */
import { readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, request as httpsRequest, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { FakeAzureAd } from "./fake-azure-ad.js";
import type { RegistryServer } from "./registry.js";

export interface ExchangeRecord {
  form: Record<string, string>;
  status: number;
}

export interface AcrFront {
  /** host:port, as in an image reference and PLUGIN_REGISTRY. */
  host: string;
  exchanges: ExchangeRecord[];
  /** Paths of the registry requests forwarded, with whether they carried an Authorization header. */
  forwarded: { method: string; path: string; authorized: boolean }[];
  stop(): Promise<void>;
}

export interface AcrFrontOptions {
  registry: RegistryServer;
  aad: FakeAzureAd;
  /** The refresh token handed out: the registry's password for 00000000-0000-0000-0000-000000000000. */
  refreshToken: string;
  /** Client ids with a role on the registry (AcrPush); the others' tokens are refused. */
  clientsWithRole: string[];
  /**
   * Where to listen and the name to answer as (default: a free port of 127.0.0.1, named by it). A name
   * like `myregistry.azurecr.io` on port 443 needs the registry's certificate to hold it (`names`).
   */
  listen?: { address: string; port: number; name: string };
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

function acrError(response: ServerResponse, status: number, code: string, message: string): void {
  response.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  response.end(JSON.stringify({ errors: [{ code, message }] }));
}

export async function startAcrFront(options: AcrFrontOptions): Promise<AcrFront> {
  const { registry } = options;
  if (!registry.certFile || !registry.keyFile || !registry.caFile) {
    throw new Error("startAcrFront needs a registry started with tls");
  }
  const ca = readFileSync(registry.caFile);
  const exchanges: ExchangeRecord[] = [];
  const forwarded: AcrFront["forwarded"] = [];
  let host = "";

  const exchange = async (request: IncomingMessage, response: ServerResponse) => {
    const form = await readForm(request);
    const record: ExchangeRecord = { form, status: 200 };
    exchanges.push(record);
    const issued = options.aad.issued.get(form.access_token ?? "");
    const refuse = (status: number, code: string, message: string) => {
      record.status = status;
      acrError(response, status, code, message);
    };
    if (form.grant_type !== "access_token") return refuse(400, "UNSUPPORTED", "unsupported grant_type");
    if (form.service !== host)
      return refuse(400, "DENIED", `the service ${form.service} is not this registry`);
    if (!issued || issued.tenant !== form.tenant) {
      return refuse(401, "UNAUTHORIZED", "the access token is not valid for this tenant");
    }
    if (!options.clientsWithRole.includes(issued.clientId)) {
      return refuse(401, "UNAUTHORIZED", `the principal ${issued.clientId} has no role on this registry`);
    }
    response.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    response.end(JSON.stringify({ refresh_token: options.refreshToken }));
  };

  const forward = (request: IncomingMessage, response: ServerResponse) => {
    forwarded.push({
      method: request.method ?? "",
      path: request.url ?? "",
      authorized: request.headers.authorization !== undefined,
    });
    const [upstreamHost, upstreamPort] = registry.host.split(":");
    const upstream = httpsRequest(
      {
        host: upstreamHost,
        port: Number(upstreamPort),
        method: request.method,
        path: request.url,
        headers: request.headers,
        ca,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", () => {
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  };

  const server: Server = createServer(
    { cert: readFileSync(registry.certFile), key: readFileSync(registry.keyFile) },
    (request, response) => {
      const path = new URL(request.url ?? "/", "https://front").pathname;
      if (path === "/oauth2/exchange") {
        if (request.method !== "POST") return acrError(response, 405, "UNSUPPORTED", "POST only");
        void exchange(request, response);
        return;
      }
      forward(request, response);
    },
  );
  const listen = options.listen;
  await new Promise<void>((resolve) =>
    server.listen(listen?.port ?? 0, listen?.address ?? "127.0.0.1", resolve),
  );
  host = listen?.name ?? `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    exchanges,
    forwarded,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
