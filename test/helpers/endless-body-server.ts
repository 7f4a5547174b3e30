/**
 * A fake registry whose answers never end: `GET /v2/` asks for a Bearer token from its own `/token`, and
 * the chosen path answers 200 with a body streamed in 64 KiB pieces until the client hangs up (or
 * `capBytes` is reached). It counts what it sent, so a test can tell the client stopped reading early.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface EndlessBodyServer {
  /** host:port, as in an image reference. */
  host: string;
  /** Bytes of endless bodies written so far (all requests). */
  bytesSent(): number;
  stop(): Promise<void>;
}

export async function startEndlessBodyServer(options: {
  /** Which path answers with the endless body: the token endpoint or the ping itself. */
  endless: "token" | "ping";
  capBytes: number;
}): Promise<EndlessBodyServer> {
  let sent = 0;
  const piece = Buffer.alloc(64 * 1024, "a");
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    const isEndless =
      (options.endless === "token" && path === "/token") || (options.endless === "ping" && path === "/v2/");
    if (isEndless) {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"token":"');
      const pump = () => {
        while (sent < options.capBytes) {
          sent += piece.length;
          if (!response.write(piece)) {
            response.once("drain", pump);
            return;
          }
        }
        response.end('"}');
      };
      response.on("close", () => response.removeAllListeners("drain"));
      pump();
      return;
    }
    if (path === "/v2/") {
      const { port } = server.address() as AddressInfo;
      response.writeHead(401, {
        "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="endless"`,
        "content-type": "application/json",
      });
      response.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    response.writeHead(404);
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    bytesSent: () => sent,
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
