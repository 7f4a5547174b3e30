/**
 * A registry front that sends clients to ANOTHER origin, as registries backed by object storage do: the
 * upload an upload-start (POST) opens is given a Location on the other origin, and blob reads (GET,
 * HEAD) are answered 307 to it. The front is https and asks for Basic credentials (checked here); the
 * other origin (https or plain http, with its own port) records every request's headers and relays it
 * anonymously to the real registry behind, like a signed URL would let it. A test can then check what
 * reached the other origin: never an Authorization header.
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { makeCertificates } from "./registry.js";

export interface OtherOriginRequest {
  method: string;
  path: string;
  authorization?: string;
  proxyAuthorization?: string;
}

export interface RedirectingRegistry {
  /** The front, host:port, as in an image reference (https, certificate for 127.0.0.1 by `caFile`). */
  host: string;
  caFile: string;
  /** The other origin, e.g. http://127.0.0.1:4321. */
  otherOrigin: string;
  /** What reached the other origin. */
  otherRequests: OtherOriginRequest[];
  stop(): Promise<void>;
}

export interface RedirectingRegistryOptions {
  /** The real registry behind both, host:port (plain http). */
  upstream: string;
  /** Folder for the certificates. */
  dir: string;
  /** The other origin's scheme. */
  otherScheme: "https" | "http";
  /** Basic credentials the front requires. */
  login: { username: string; password: string };
  /** Blob reads are answered 307 to the other origin (default true). */
  redirectReads?: boolean;
  /** The other origin refuses everything with 401 and a Bearer challenge naming this realm. */
  otherRefusesWithRealm?: string;
}

/** Forwards a request to the registry, with Host and X-Forwarded-Proto so its Locations name `publicOrigin`. */
function relay(
  upstream: string,
  publicOrigin: URL,
  req: IncomingMessage,
  res: ServerResponse,
  rewriteLocation?: (location: string) => string,
): void {
  const [host, port] = upstream.split(":");
  const { authorization: _client, ...headers } = req.headers;
  const forward = httpRequest(
    {
      host,
      port: Number(port),
      method: req.method,
      path: req.url,
      headers: {
        ...headers,
        host: publicOrigin.host,
        "x-forwarded-proto": publicOrigin.protocol.slice(0, -1),
      },
    },
    (answer) => {
      const answerHeaders = { ...answer.headers };
      if (rewriteLocation && typeof answerHeaders.location === "string") {
        answerHeaders.location = rewriteLocation(answerHeaders.location);
      }
      res.writeHead(answer.statusCode ?? 502, answerHeaders);
      answer.pipe(res);
    },
  );
  forward.on("error", () => res.destroy());
  req.on("error", () => forward.destroy());
  req.pipe(forward);
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

export async function startRedirectingRegistry(
  options: RedirectingRegistryOptions,
): Promise<RedirectingRegistry> {
  await mkdir(options.dir, { recursive: true });
  const certs = makeCertificates(options.dir);
  const tls = { key: readFileSync(certs.key), cert: readFileSync(certs.cert) };
  const otherRequests: OtherOriginRequest[] = [];
  const expected = `Basic ${Buffer.from(`${options.login.username}:${options.login.password}`).toString("base64")}`;

  let otherOrigin = new URL("http://127.0.0.1");
  const handleOther = (req: IncomingMessage, res: ServerResponse) => {
    otherRequests.push({
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
      proxyAuthorization: req.headers["proxy-authorization"],
    });
    if (options.otherRefusesWithRealm) {
      req.resume();
      res.writeHead(401, {
        "www-authenticate": `Bearer realm="${options.otherRefusesWithRealm}",service="other"`,
        "content-type": "application/json",
      });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"the other origin refuses"}]}');
      return;
    }
    relay(options.upstream, otherOrigin, req, res);
  };
  const other =
    options.otherScheme === "https" ? createHttpsServer(tls, handleOther) : createHttpServer(handleOther);
  otherOrigin = new URL(`${options.otherScheme}://127.0.0.1:${await listen(other)}`);

  let frontOrigin = new URL("https://127.0.0.1");
  const front = createHttpsServer(tls, (req, res) => {
    if (req.headers.authorization !== expected) {
      req.resume();
      res.writeHead(401, { "www-authenticate": 'Basic realm="front"', "content-type": "application/json" });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"log in"}]}');
      return;
    }
    const path = req.url ?? "/";
    const read = req.method === "GET" || req.method === "HEAD";
    if (read && options.redirectReads !== false && /\/blobs\/sha256:[0-9a-f]{64}$/.test(path)) {
      req.resume();
      res.writeHead(307, { location: `${otherOrigin.origin}${path}` });
      res.end();
      return;
    }
    const startsUpload = req.method === "POST" && /\/blobs\/uploads\/(\?.*)?$/.test(path);
    relay(
      options.upstream,
      frontOrigin,
      req,
      res,
      startsUpload
        ? (location) => {
            const url = new URL(location, frontOrigin);
            return `${otherOrigin.origin}${url.pathname}${url.search}`;
          }
        : undefined,
    );
  });
  frontOrigin = new URL(`https://127.0.0.1:${await listen(front)}`);

  return {
    host: frontOrigin.host,
    caFile: certs.ca,
    otherOrigin: otherOrigin.origin,
    otherRequests,
    async stop() {
      for (const server of [front, other]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}
