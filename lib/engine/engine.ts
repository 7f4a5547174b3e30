/**
 * The Docker engine of a run: its address, parsed once from the environment (address.ts), and a dockerode
 * client made on first use. dockerode and its ssh2 cost a build ~0.4 s of CPU to import, so nothing loads
 * it before a request needs it: the image store a build asks for goes without it (info.ts).
 */
import type Dockerode from "dockerode";
import { ProtocolError } from "../protocol-error.js";
import { type EngineAddress, engineAddressFromEnv } from "./address.js";

export class Engine {
  readonly address: EngineAddress;
  #client?: Promise<Dockerode>;

  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.address = engineAddressFromEnv(env);
  }

  /** The dockerode client, imported and made on the first call. */
  client(): Promise<Dockerode> {
    this.#client ??= Promise.all([import("dockerode"), import("./modem-options.js")]).then(
      ([{ default: Dockerode }, { modemOptions }]) => {
        const options = modemOptions(this.address, this.env);
        try {
          return new Dockerode(options as Dockerode.DockerOptions);
        } catch (error) {
          // docker-modem reads the environment itself before our options override it (e.g. DOCKER_CERT_PATH files).
          throw new ProtocolError(
            "invalid-address",
            `cannot use the Docker engine at ${this.address.display}: ${(error as Error).message}`,
          );
        }
      },
    );
    return this.#client;
  }
}

/** The engine that `DOCKER_HOST` (or the default socket) names. Throws `invalid-address` for a bad address. */
export function connectEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  return new Engine(env);
}
