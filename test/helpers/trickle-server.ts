/**
 * A registry that answers, but a byte at a time: every `intervalMs` it writes one more byte of an HTTP
 * answer (over TLS when given a certificate, after a normal handshake). Each byte is progress, so only a
 * no-progress timeout shorter than the interval, or the push's deadline, stops a client.
 */
import type { Server as NetServer, Socket } from "node:net";
import { createServer as createNetServer } from "node:net";
import { createServer as createTlsServer } from "node:tls";

export interface TrickleServer {
  /** host:port */
  host: string;
  /** Bytes written so far. */
  bytesSent(): number;
  stop(): Promise<void>;
}

export async function startTrickleServer(options: {
  intervalMs: number;
  tls?: { key: Buffer; cert: Buffer };
}): Promise<TrickleServer> {
  const answer = Buffer.from(
    'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n{"a":"',
  );
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let sent = 0;
  const onConnection = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.resume();
    let index = 0;
    const timer = setInterval(() => {
      socket.write(answer.subarray(index % answer.length, (index % answer.length) + 1));
      index++;
      sent++;
    }, options.intervalMs);
    timers.add(timer);
    socket.on("close", () => {
      clearInterval(timer);
      timers.delete(timer);
      sockets.delete(socket);
    });
  };
  const server: NetServer = options.tls
    ? createTlsServer(options.tls, onConnection)
    : createNetServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    bytesSent: () => sent,
    async stop() {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
