/**
 * Which proxy, if any, a request of the registry client goes through, from the environment, as Go's
 * net/http reads it (http.ProxyFromEnvironment, golang.org/x/net/http/httpproxy), which docker, buildx
 * and the Drone/Harness plugins follow:
 * - `HTTPS_PROXY`/`https_proxy` for https URLs, `HTTP_PROXY`/`http_proxy` for http ones (the upper-case
 *   name first); then the `HARNESS_HTTPS_PROXY`, `HARNESS_HTTP_PROXY` and `HARNESS_NO_PROXY` that
 *   Harness runners set, as fall-backs.
 * - `NO_PROXY`/`no_proxy`: comma-separated; `*` for everything; `example.com` for it and its
 *   subdomains, `.example.com` and `*.example.com` for its subdomains only; an IP address or a CIDR
 *   range (`10.0.0.0/8`, `fd00::/8`); each with an optional `:port`.
 * - localhost and loopback addresses are never proxied.
 * - A proxy without a scheme is `http://`; `http://` and `https://` proxies are supported, with
 *   `user:password@` sent to the proxy only (Proxy-Authorization).
 *
 * The library that reads these for Node (proxy-from-env) was not used: it reads only process.env, matches
 * `example.com` exactly rather than with its subdomains, and knows no CIDR ranges.
 */
import { BlockList, isIP } from "node:net";
import { ProtocolError } from "../protocol-error.js";
import { urlCredentialSecrets } from "../url-credentials.js";

/** The proxy variables, each with the names read for it in order. */
const VARIABLES = {
  https: ["HTTPS_PROXY", "https_proxy", "HARNESS_HTTPS_PROXY"],
  http: ["HTTP_PROXY", "http_proxy", "HARNESS_HTTP_PROXY"],
  noProxy: ["NO_PROXY", "no_proxy", "HARNESS_NO_PROXY"],
} as const;

/** A proxy as the environment names it. */
export interface ProxyServer {
  url: URL;
  /** The variable it came from, for messages. */
  variable: string;
  /** `scheme://host:port`, never the credentials: what messages show. */
  display: string;
}

interface NoProxyRule {
  /** `.example.com` (suffix), `example.com` (exact, or suffix when `subdomains`), or an IP/CIDR. */
  match: (hostname: string) => boolean;
  port?: string;
}

export interface ProxyConfig {
  https?: ProxyServer;
  http?: ProxyServer;
  noProxy: NoProxyRule[];
  /** `NO_PROXY=*`. */
  noProxyAll: boolean;
}

function firstSet(
  env: NodeJS.ProcessEnv,
  names: readonly string[],
): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/**
 * The credentials in the proxy variables (`user:password@`), as written and decoded, for the logger to
 * mask: no message of ours shows them, but a library's might.
 */
export function proxyCredentials(env: NodeJS.ProcessEnv): string[] {
  return [...VARIABLES.https, ...VARIABLES.http].flatMap((name) => urlCredentialSecrets(env[name] ?? ""));
}

/** Whether any proxy variable is set: only then is the proxy code loaded (start-up time). */
export function proxyVariablesSet(env: NodeJS.ProcessEnv): boolean {
  return firstSet(env, VARIABLES.https) !== undefined || firstSet(env, VARIABLES.http) !== undefined;
}

function parseProxy(name: string, value: string): ProxyServer {
  let url: URL | undefined;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    url = undefined;
  }
  // The value may hold a password: messages never repeat it.
  if (!url?.hostname) {
    throw new ProtocolError(
      "invalid-address",
      `${name} is not a proxy URL: give http://[user:password@]host:port`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProtocolError(
      "invalid-address",
      `${name} names a ${url.protocol.slice(0, -1)} proxy; the registry client supports http:// and https:// proxies`,
    );
  }
  return { url, variable: name, display: url.origin };
}

/** The rule for one `NO_PROXY` entry. */
function parseNoProxyEntry(entry: string): NoProxyRule | undefined {
  let host = entry.trim().toLowerCase();
  if (!host) return undefined;
  if (host.includes("/")) {
    const [address, bits] = host.split("/");
    const family = isIP(address ?? "");
    if (!family || !/^\d+$/.test(bits ?? "")) return undefined;
    const list = new BlockList();
    list.addSubnet(address as string, Number(bits), family === 6 ? "ipv6" : "ipv4");
    return {
      match: (hostname) =>
        isIP(hostname) !== 0 && list.check(hostname, isIP(hostname) === 6 ? "ipv6" : "ipv4"),
    };
  }
  let port: string | undefined;
  const withPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(host);
  if (withPort) {
    host = withPort[1] as string;
    port = withPort[2];
  }
  host = host.replace(/^\[|\]$/g, "");
  if (isIP(host)) return { match: (hostname) => hostname === host, port };
  if (host.startsWith("*.")) host = host.slice(1);
  if (host.startsWith(".")) {
    const suffix = host;
    return { match: (hostname) => hostname.endsWith(suffix), port };
  }
  return { match: (hostname) => hostname === host || hostname.endsWith(`.${host}`), port };
}

/** The proxy settings of an environment; a malformed proxy URL is bad input (exit 2) naming its variable. */
export function proxyConfigFrom(env: NodeJS.ProcessEnv): ProxyConfig {
  const https = firstSet(env, VARIABLES.https);
  const http = firstSet(env, VARIABLES.http);
  const noProxy = firstSet(env, VARIABLES.noProxy)?.value ?? "";
  return {
    https: https ? parseProxy(https.name, https.value) : undefined,
    http: http ? parseProxy(http.name, http.value) : undefined,
    noProxyAll: noProxy.trim() === "*",
    noProxy: noProxy
      .split(",")
      .map(parseNoProxyEntry)
      .filter((rule): rule is NoProxyRule => rule !== undefined),
  };
}

function isLoopback(hostname: string): boolean {
  if (hostname === "localhost") return true;
  if (isIP(hostname) === 4) return hostname.startsWith("127.");
  return hostname === "::1";
}

/** The proxy for a request to `url`, or undefined to go direct. */
export function proxyFor(url: URL, config: ProxyConfig): ProxyServer | undefined {
  const proxy = url.protocol === "https:" ? config.https : url.protocol === "http:" ? config.http : undefined;
  if (!proxy || config.noProxyAll) return undefined;
  const hostname = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isLoopback(hostname)) return undefined;
  const port = url.port || (url.protocol === "https:" ? "443" : "80");
  const excluded = config.noProxy.some((rule) => (!rule.port || rule.port === port) && rule.match(hostname));
  return excluded ? undefined : proxy;
}
