/**
 * Registries that never answer, on loopback: one that accepts TCP connections and says nothing (no TLS
 * handshake, no HTTP answer), and one that does not even accept them (a blackholed address: the SYNs of a
 * connect go unanswered). The second is a listening socket in a stopped child process whose accept
 * queue this helper fills first: the kernel then drops further SYNs, as a firewall that drops would.
 */
import { spawn } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";

export interface SilentServer {
  /** host:port */
  host: string;
  /** Connections accepted so far (the silent one only). */
  connections(): number;
  stop(): Promise<void>;
}

/** Accepts every connection, reads what comes, never writes a byte. */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    host: `127.0.0.1:${port}`,
    connections: () => accepted,
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A port whose connection attempts hang unanswered until the client gives up. */
export async function startUnacceptingServer(): Promise<SilentServer> {
  // The child listens with the smallest queue, prints its port and stops itself: nothing ever accepts.
  const child = spawn(
    process.execPath,
    [
      "-e",
      `const s = require("node:net").createServer();
       s.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
         process.stdout.write(s.address().port + "\\n", () => process.kill(process.pid, "SIGSTOP"));
       });`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once("data", (data: Buffer) => resolve(Number(String(data).trim())));
    child.once("exit", (code) => reject(new Error(`the unaccepting server's process exited (${code})`)));
  });
  // Fill the accept queue: once a connect hangs, the queue is full and every later one hangs too.
  const fillers: Socket[] = [];
  for (let i = 0; i < 8; i++) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 500);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) break;
  }
  return {
    host: `127.0.0.1:${port}`,
    connections: () => 0,
    async stop() {
      for (const socket of fillers) socket.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}
