/**
 * Loopback ports for servers the tests start as other programs (docker-registry, tinyproxy), which
 * bind the port themselves. A port the kernel reports free can be taken before the program binds it (by
 * another test's server, or as the local port of an outgoing connection): the program then fails with
 * "address already in use", and {@link onFreePort} starts it again on another port.
 */
import { createServer } from "node:net";

/** A loopback port nothing listens on now (the kernel's pick for port 0). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** A server that could not start because its port was taken between {@link freePort} and its bind. */
export class PortTaken extends Error {
  constructor(port: number, detail: string) {
    super(`port ${port} was taken before the server bound it: ${detail}`);
    this.name = "PortTaken";
  }
}

/** `start` on a free port, again on another when the port was taken meanwhile ({@link PortTaken}). */
export async function onFreePort<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(await freePort());
    } catch (error) {
      if (!(error instanceof PortTaken) || attempt >= attempts) throw error;
    }
  }
}
