/**
 * An OCI 1.1 registry for the referrers tests: an HTTP front, in the test's process, before a real
 * docker-registry (2.8, which has no referrers API). It forwards every request (the Host header too, so
 * upload Locations point back at it), and adds what OCI distribution 1.1 adds: a manifest written with a
 * `subject` is remembered (answered with `OCI-Subject`), and `GET /v2/<name>/referrers/<digest>` lists
 * those manifests as an image index, filtered by `artifactType` (answered with `OCI-Filters-Applied`).
 * https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers
 */
import { createHash } from "node:crypto";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

interface ReferrerEntry {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrersFront {
  host: string;
  url: string;
  /** Referrers by repository and subject digest. */
  referrers: Map<string, ReferrerEntry[]>;
  stop(): Promise<void>;
}

export async function startReferrersFront(upstream: string): Promise<ReferrersFront> {
  const [upstreamHost, upstreamPort] = upstream.split(":");
  const referrers = new Map<string, ReferrerEntry[]>();

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    body?: Buffer,
    onDone?: (status: number) => Record<string, string>,
  ) => {
    const upstreamRequest = httpRequest(
      {
        host: upstreamHost,
        port: Number(upstreamPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamResponse) => {
        const extra = onDone?.(upstreamResponse.statusCode ?? 0) ?? {};
        res.writeHead(upstreamResponse.statusCode ?? 502, { ...upstreamResponse.headers, ...extra });
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on("error", () => res.destroy());
    if (body) upstreamRequest.end(body);
    else req.pipe(upstreamRequest);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://front");
    const listing = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})$/.exec(url.pathname);
    if (req.method === "GET" && listing) {
      const filter = url.searchParams.get("artifactType");
      const all = referrers.get(`${listing[1]}@${listing[2]}`) ?? [];
      const manifests = filter ? all.filter((r) => r.artifactType === filter) : all;
      res.writeHead(200, {
        "content-type": "application/vnd.oci.image.index.v1+json",
        ...(filter ? { "oci-filters-applied": "artifactType" } : {}),
      });
      res.end(
        JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }),
      );
      return;
    }
    const manifestPut = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (req.method === "PUT" && manifestPut) {
      const parts: Buffer[] = [];
      req.on("data", (chunk: Buffer) => parts.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(parts);
        let parsed: {
          subject?: { digest?: string };
          artifactType?: string;
          config?: { mediaType?: string };
          mediaType?: string;
          annotations?: Record<string, string>;
        } = {};
        try {
          parsed = JSON.parse(body.toString());
        } catch {
          // not JSON: the registry will say so
        }
        forward(req, res, body, (status): Record<string, string> => {
          const subject = parsed.subject?.digest;
          if (status !== 201 || !subject) return {};
          const key = `${manifestPut[1]}@${subject}`;
          const entry: ReferrerEntry = {
            mediaType: parsed.mediaType ?? "application/vnd.oci.image.manifest.v1+json",
            digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
            size: body.length,
            artifactType: parsed.artifactType ?? parsed.config?.mediaType,
            ...(parsed.annotations ? { annotations: parsed.annotations } : {}),
          };
          referrers.set(key, [...(referrers.get(key) ?? []).filter((r) => r.digest !== entry.digest), entry]);
          return { "oci-subject": subject };
        });
      });
      return;
    }
    forward(req, res);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    referrers,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
