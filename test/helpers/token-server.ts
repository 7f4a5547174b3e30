import { createPrivateKey, createSign, randomBytes, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { selfSignedCertificate } from "./registry.js";

export interface TokenServerOptions {
  /** Folder for the signing key and certificate. */
  dir: string;
  users: { username: string; password: string }[];
  /** Refresh tokens (identity tokens) accepted by the refresh-token grant, and whose they are. */
  refreshTokens?: Record<string, string>;
  service?: string;
  issuer?: string;
}

export interface TokenRequestRecord {
  method: string;
  /** Who asked: the Basic user, the refresh token's user, or undefined for anonymous. */
  account?: string;
  grant: "basic" | "password" | "refresh_token" | "anonymous";
  scopes: string[];
  /** Whether the server granted a token. */
  granted: boolean;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** The certificate file to give the registry as `rootcertbundle`. */
  rootCertBundle: string;
  requests: TokenRequestRecord[];
  stop(): Promise<void>;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** `repository:team/app:pull,push` as a JWT access entry. */
function parseScope(scope: string): Access | undefined {
  const parts = scope.split(":");
  if (parts.length < 3) return undefined;
  const actions = (parts.pop() ?? "").split(",").filter(Boolean);
  const type = parts.shift() ?? "";
  return { type, name: parts.join(":"), actions };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    request.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    request.on("end", () => resolve(text));
    request.on("error", reject);
  });
}

/** Starts the token server on a free loopback port. */
export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const service = options.service ?? "buildx-step-test-registry";
  const issuer = options.issuer ?? "buildx-step-test-token-server";
  const keyFile = join(options.dir, "token-key.pem");
  const certFile = join(options.dir, "token-cert.pem");
  selfSignedCertificate("token signer", keyFile, certFile);
  const key = createPrivateKey(readFileSync(keyFile));
  const certDer = new X509Certificate(readFileSync(certFile)).raw;
  const requests: TokenRequestRecord[] = [];

  const sign = (account: string | undefined, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "RS256", x5c: [certDer.toString("base64")] };
    const claims = {
      iss: issuer,
      sub: account ?? "",
      aud: service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
    const signature = createSign("RSA-SHA256").update(input).sign(key);
    return `${input}.${base64url(signature)}`;
  };

  const checkUser = (username: string, password: string) =>
    options.users.some((u) => u.username === username && u.password === password);

  const server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? "/", "http://token");
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    if (url.pathname !== "/token") return reply(404, { error: "not found" });
    let scopes = url.searchParams.getAll("scope");
    let account: string | undefined;
    let grant: TokenRequestRecord["grant"] = "anonymous";
    let refreshToken: string | undefined;
    if (request.method === "POST") {
      const form = new URLSearchParams(await readBody(request));
      scopes = form
        .getAll("scope")
        .flatMap((s) => s.split(" "))
        .filter(Boolean);
      const grantType = form.get("grant_type");
      if (grantType === "password") {
        grant = "password";
        if (!checkUser(form.get("username") ?? "", form.get("password") ?? "")) {
          requests.push({
            method: "POST",
            grant,
            scopes,
            granted: false,
            account: form.get("username") ?? "",
          });
          return reply(401, { error: "invalid_grant" });
        }
        account = form.get("username") ?? "";
      } else if (grantType === "refresh_token") {
        grant = "refresh_token";
        refreshToken = form.get("refresh_token") ?? "";
        account = options.refreshTokens?.[refreshToken];
        if (!account) {
          requests.push({ method: "POST", grant, scopes, granted: false });
          return reply(401, { error: "invalid_grant" });
        }
      } else {
        return reply(400, { error: "unsupported_grant_type" });
      }
    } else {
      const authorization = request.headers.authorization ?? "";
      if (authorization.startsWith("Basic ")) {
        grant = "basic";
        const decoded = Buffer.from(authorization.slice(6), "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        const username = decoded.slice(0, colon);
        if (colon < 0 || !checkUser(username, decoded.slice(colon + 1))) {
          requests.push({ method: "GET", grant, scopes, granted: false, account: username });
          response.writeHead(401, { "www-authenticate": 'Basic realm="token"' });
          return response.end();
        }
        account = username;
      }
    }
    // Known users get what they ask for; anonymous callers get nothing (the registry then refuses).
    const access = account ? scopes.map(parseScope).filter((a): a is Access => a !== undefined) : [];
    requests.push({ method: request.method ?? "GET", account, grant, scopes, granted: true });
    const token = sign(account, access);
    const body: Record<string, unknown> = {
      token,
      access_token: token,
      expires_in: 300,
      issued_at: new Date().toISOString(),
    };
    if (refreshToken) body.refresh_token = refreshToken;
    reply(200, body);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve(typeof address === "object" && address ? address.port : 0);
    });
  });
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    rootCertBundle: certFile,
    requests,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
