/**
 * A small HTTP proxy, in the test's process, in front of a real registry, that injects scripted faults:
 * answer a status (500, 429 with Retry-After) or drop the connection after some bytes of a request's
 * body, for the first N requests that match. A dropped request never reaches the registry (as behind a
 * proxy or load balancer that buffers bodies); a cut one does, up to the cut (the registry keeps a part). It forwards everything else unchanged (the Host header
 * too, so the registry's upload Locations point back at the proxy) and records what it saw.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

export type FaultAction =
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** Reads this many bytes of the request's body, then destroys the connection without an answer. */
  | { kind: "drop-after"; bytes: number }
  /** Forwards the request, and cuts it (both connections) once this many bytes of its body went on. */
  | { kind: "cut-after"; bytes: number }
  /** Holds the request this long, then forwards it as usual (a slow registry). */
  | { kind: "delay"; ms: number };

export interface Fault {
  method?: string;
  /** Matched against the request's path (with query). */
  path?: RegExp;
  /** Matched against the request's User-Agent: a fault for buildx-step's own requests, not the engine's. */
  userAgent?: RegExp;
  /** How many matching requests get the fault; Infinity for every one. */
  times: number;
  /**
   * Which of the matching requests get the fault, counted from 1 over every request it matches (also those
   * another fault took); default: the first `times`.
   */
  only?: number[];
  action: FaultAction;
}

export interface SeenRequest {
  method: string;
  path: string;
  /** The fault applied, if any ("status 500", "drop-after 1000"); else the upstream's status. */
  fault?: string;
  status?: number;
  at: number;
  /** Bytes of the request's body that reached the proxy (before a drop, all of them otherwise). */
  bodyBytes: number;
}

export interface FaultProxy {
  host: string;
  url: string;
  requests: SeenRequest[];
  /** How many times a fault was applied. */
  faultsApplied(): number;
  addFault(fault: Fault): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

function describe(action: FaultAction): string {
  if (action.kind === "status") return `status ${action.status}`;
  if (action.kind === "delay") return `delay ${action.ms}`;
  return `${action.kind} ${action.bytes}`;
}

export async function startFaultProxy(upstream: string, faults: Fault[] = []): Promise<FaultProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(":");
  const active = faults.map((fault) => ({ ...fault, left: fault.times, matched: 0 }));
  const requests: SeenRequest[] = [];
  let applied = 0;

  // Counted once the body is read (forwarded, dropped or answered): a listener added earlier would let a
  // held (delayed) body flow away before it is forwarded.
  const countBody = (req: IncomingMessage, seen: SeenRequest) =>
    req.on("data", (chunk: Buffer) => {
      seen.bodyBytes += chunk.length;
    });

  const forward = (req: IncomingMessage, res: ServerResponse, seen: SeenRequest, cutAfter?: number) => {
    countBody(req, seen);
    const upstreamRequest = httpRequest(
      {
        host: upstreamHost,
        port: Number(upstreamPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (upstreamResponse) => {
        seen.status = upstreamResponse.statusCode;
        res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(res);
      },
    );
    upstreamRequest.on("error", () => res.destroy());
    req.on("error", () => upstreamRequest.destroy());
    if (cutAfter !== undefined) {
      let cut = false;
      req.on("data", () => {
        if (cut || seen.bodyBytes < cutAfter) return;
        // The piece that crossed the limit still goes on (pipe's own listener runs after this one); nothing
        // after it. The registry is given a moment to take it in, then both sides are cut.
        cut = true;
        req.unpipe(upstreamRequest);
        req.pause();
        setTimeout(() => {
          upstreamRequest.destroy();
          req.socket.destroy();
        }, 300);
      });
    }
    req.pipe(upstreamRequest);
  };

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const seen: SeenRequest = { method: req.method ?? "", path: req.url ?? "", at: Date.now(), bodyBytes: 0 };
    requests.push(seen);
    const matching = active.filter(
      (f) =>
        (!f.method || f.method === req.method) &&
        (!f.path || f.path.test(req.url ?? "")) &&
        (!f.userAgent || f.userAgent.test(req.headers["user-agent"] ?? "")),
    );
    for (const f of matching) f.matched++;
    const fault = matching.find((f) => f.left > 0 && (!f.only || f.only.includes(f.matched)));
    if (fault) {
      fault.left--;
      applied++;
      seen.fault = describe(fault.action);
      const action = fault.action;
      if (action.kind === "delay") {
        setTimeout(() => forward(req, res, seen), action.ms);
        return;
      }
      if (action.kind === "cut-after") {
        forward(req, res, seen, action.bytes);
        return;
      }
      countBody(req, seen);
      if (action.kind === "drop-after") {
        let received = 0;
        req.on("data", (chunk: Buffer) => {
          received += chunk.length;
          if (received >= action.bytes) req.socket.destroy();
        });
        req.on("end", () => req.socket.destroy());
        return;
      }
      // Read the body first: answering mid-body would look like a broken connection, not a status.
      req.resume();
      req.on("end", () => {
        const body =
          action.body ??
          JSON.stringify({ errors: [{ code: "UNKNOWN", message: `injected ${action.status}` }] });
        res.writeHead(action.status, { "content-type": "application/json", ...action.headers });
        res.end(body);
      });
      return;
    }
    forward(req, res, seen);
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    faultsApplied: () => applied,
    addFault(fault) {
      active.push({ ...fault, left: fault.times, matched: 0 });
    },
    clearFaults() {
      active.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
