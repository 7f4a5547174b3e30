// The registry client through a real HTTP proxy (issue 10.7): tinyproxy on loopback, one per test, whose
// log proves what went through it. HTTPS_PROXY tunnels (CONNECT) to an https registry, HTTP_PROXY sends
// absolute-URI requests to a plain-http one, NO_PROXY and loopback go direct, the Harness runners'
// HARNESS_* forms are fall-backs, and proxy credentials go to the proxy only, never into the output.
// A registry on 127.0.0.1 is never proxied (Go's rule), so the registry is reached by another name of
// this machine that resolves to loopback (the host name, as /etc/hosts usually has it).
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { registryManifest } from "../helpers/images.js";
import { aliasSkipReason, loopbackAlias } from "../helpers/loopback-alias.js";
import { writeOciTarball } from "../helpers/oci-tarball.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { startTinyproxy, type Tinyproxy } from "../helpers/tinyproxy.js";
import { tempDir } from "../helpers/tmp.js";

const alias = await loopbackAlias();
const skip = aliasSkipReason(alias);

let work: Awaited<ReturnType<typeof tempDir>>;
let tarball: Awaited<ReturnType<typeof writeOciTarball>>;
let tlsRegistry: RegistryServer;
let plainRegistry: RegistryServer;
/** The TLS registry as reached by the alias: `vm:40123`. */
let tlsHost: string;
let plainHost: string;
let tlsPort: number;

before(async () => {
  if (!alias) return;
  work = await tempDir("buildx-step-proxy-");
  tarball = await writeOciTarball(join(work.path, "image.tar"));
  tlsRegistry = await startRegistry({ tls: true, names: [alias] });
  plainRegistry = await startRegistry();
  tlsPort = Number(tlsRegistry.host.split(":")[1]);
  tlsHost = `${alias}:${tlsPort}`;
  plainHost = `${alias}:${plainRegistry.host.split(":")[1]}`;
});
after(async () => {
  await tlsRegistry?.stop();
  await plainRegistry?.stop();
  await work?.remove();
});

function push(repo: string, env: NodeJS.ProcessEnv) {
  return runCli(["push", tarball.path, "--repo", repo, "--tag", "v1"], {
    env: { CI: "true", PLUGIN_REGISTRY_CA: tlsRegistry.caFile, ...env },
  });
}

async function withProxy(
  options: Parameters<typeof startTinyproxy>[0],
  body: (proxy: Tinyproxy) => Promise<void>,
): Promise<void> {
  const proxy = await startTinyproxy(options);
  try {
    await body(proxy);
  } finally {
    await proxy.stop();
  }
}

describe("an https registry through a proxy", { skip }, () => {
  for (const variable of ["HTTPS_PROXY", "https_proxy", "HARNESS_HTTPS_PROXY"]) {
    test(`${variable}: the push goes through a CONNECT tunnel`, async () => {
      await withProxy({ connectPorts: [tlsPort] }, async (proxy) => {
        const repo = `${tlsHost}/proxy/${variable.toLowerCase().replace(/_/g, "-")}`;
        const result = await push(repo, { [variable]: proxy.url });
        assert.equal(result.code, 0, result.stderr);
        assert.ok(
          proxy.requests().includes(`CONNECT ${tlsHost} HTTP/1.1`),
          `the proxy logged: ${proxy.requests().join(" | ")}`,
        );
        const served = await registryManifest(
          `${tlsRegistry.host}/${repo.split("/").slice(1).join("/")}:v1`,
          {
            tls: false,
          },
        );
        assert.equal(served.digest, tarball.digest);
      });
    });
  }

  test("proxy credentials in the URL go to the proxy and nowhere else; a wrong one is named, not shown", async () => {
    const login = { username: "proxyuser", password: "proxy-secret-9342" };
    await withProxy({ connectPorts: [tlsPort], basicAuth: login }, async (proxy) => {
      const withCredentials = proxy.url.replace("http://", `http://${login.username}:${login.password}@`);
      const ok = await push(`${tlsHost}/proxy/auth`, {
        HTTPS_PROXY: withCredentials,
        BUILDX_STEP_DEBUG: "1",
      });
      assert.equal(ok.code, 0, ok.stderr);
      assert.ok(proxy.requests().includes(`CONNECT ${tlsHost} HTTP/1.1`));
      assert.ok(!`${ok.stdout}${ok.stderr}`.includes(login.password));

      const wrong = proxy.url.replace("http://", `http://${login.username}:wrong-secret-5521@`);
      const refused = await push(`${tlsHost}/proxy/auth-wrong`, { HTTPS_PROXY: wrong });
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(
        refused.stderr,
        new RegExp(`the proxy ${proxy.url} \\(HTTPS_PROXY\\) refused the request`),
      );
      assert.match(refused.stderr, /HTTP 40[17]: it asks for credentials: give them in HTTPS_PROXY/);
      assert.ok(!refused.stderr.includes("wrong-secret-5521"));
    });
  });

  for (const noProxy of ["ALIAS", "ALIAS:PORT", "*", "example.com, ALIAS"]) {
    test(`NO_PROXY=${noProxy}: the registry is reached directly`, async () => {
      await withProxy({ connectPorts: [tlsPort] }, async (proxy) => {
        const value = noProxy.replace("ALIAS", alias as string).replace("PORT", String(tlsPort));
        const result = await push(`${tlsHost}/proxy/bypass`, { HTTPS_PROXY: proxy.url, NO_PROXY: value });
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(proxy.requests(), []);
      });
    });
  }

  test("NO_PROXY for another port still proxies", async () => {
    await withProxy({ connectPorts: [tlsPort] }, async (proxy) => {
      const result = await push(`${tlsHost}/proxy/other-port`, {
        HTTPS_PROXY: proxy.url,
        no_proxy: `${alias}:1`,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(proxy.requests().includes(`CONNECT ${tlsHost} HTTP/1.1`));
    });
  });
});

describe("a plain-http registry through a proxy", { skip }, () => {
  test("HTTP_PROXY: absolute-URI requests through the proxy (PLUGIN_INSECURE for a non-loopback name)", async () => {
    await withProxy({ connectPorts: [] }, async (proxy) => {
      const result = await push(`${plainHost}/proxy/plain`, {
        HTTP_PROXY: proxy.url,
        PLUGIN_INSECURE: "true",
      });
      assert.equal(result.code, 0, result.stderr);
      assert.ok(
        proxy.requests().includes(`GET http://${plainHost}/v2/ HTTP/1.1`),
        `the proxy logged: ${proxy.requests().join(" | ")}`,
      );
      assert.ok(
        proxy.requests().some((r) => r.startsWith(`PUT http://${plainHost}/v2/proxy/plain/manifests/v1`)),
      );
    });
  });

  test("a registry on 127.0.0.1 is never proxied, whatever the variables say", async () => {
    await withProxy({ connectPorts: [] }, async (proxy) => {
      const result = await push(`${plainRegistry.host}/proxy/loopback`, {
        HTTP_PROXY: proxy.url,
        HTTPS_PROXY: proxy.url,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(proxy.requests(), []);
    });
  });
});
