/**
 * The HTTP agents that go through a proxy: CONNECT tunnels for https registries (the TLS session is then
 * between this client and the registry; the proxy sees only host and port), absolute-URI requests for
 * plain-http ones. TooTallNate's proxy-agents do the protocol; this module is imported only when a proxy
 * variable is set, so runs without a proxy never load them.
 */
import type { Agent } from "node:http";
import { HttpProxyAgent } from "http-proxy-agent";
import { HttpsProxyAgent } from "https-proxy-agent";
import type { ProxyServer } from "./proxy-env.js";

/** Keep-alive agents per proxy, for https and http targets. */
export class ProxyAgents {
  readonly #agents = new Map<string, Agent>();

  /** The agent for requests to `protocol` targets through `proxy`. */
  agentFor(proxy: ProxyServer, protocol: "https:" | "http:"): Agent {
    const key = `${protocol} ${proxy.url.href}`;
    let agent = this.#agents.get(key);
    if (!agent) {
      // Tunnels are kept alive (each is one TLS session with the registry). Absolute-URI requests get a
      // connection each: proxies such as tinyproxy answer one request per client connection without
      // saying so (no `Connection: close`), and a reused connection then breaks ("socket hang up").
      agent =
        protocol === "https:"
          ? new HttpsProxyAgent(proxy.url, { keepAlive: true })
          : new HttpProxyAgent(proxy.url, { keepAlive: false });
      this.#agents.set(key, agent);
    }
    return agent;
  }

  destroy(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }
}
