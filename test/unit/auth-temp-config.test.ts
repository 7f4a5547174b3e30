import assert from "node:assert/strict";
import { test } from "node:test";
import { authEntryFor, buildLoginHosts, mergeDockerConfig } from "../../lib/auth/temp-docker-config.js";
import { buildkitdRegistryConfig, tlsRegistryHosts } from "../../lib/auth/tls.js";
import type { Settings } from "../../lib/config/settings.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

test("a login is written as docker writes it", () => {
  assert.deepEqual(authEntryFor({ username: "u", password: "p:w" }), { auth: b64("u:p:w") });
  assert.deepEqual(authEntryFor({ identityToken: "refresh" }), { identitytoken: "refresh" });
  assert.deepEqual(authEntryFor({ registryToken: "bearer" }), { registrytoken: "bearer" });
});

test("the build's config keeps the user's other logins and helpers, and pins ours to the file", () => {
  const plugin = { auths: { "r.example.com": { auth: b64("plugin:1") } } };
  const user = {
    auths: { "http://r.example.com/v1/": { auth: b64("user:old") }, "quay.io": { auth: b64("q:q") } },
    credsStore: "desktop",
    credHelpers: { "gcr.io": "gcloud", "https://index.docker.io/v1/": "hub-helper" },
    proxies: { default: { httpProxy: "http://proxy:3128" } },
    currentContext: "default",
  };
  const merged = mergeDockerConfig(
    [plugin, user],
    new Map([
      ["docker.io", { username: "hub", password: "hubpw" }],
      ["registry.internal:5000", { username: "ci", password: "cipw" }],
    ]),
  );
  assert.deepEqual(merged.auths, {
    "r.example.com": { auth: b64("plugin:1") },
    "quay.io": { auth: b64("q:q") },
    "https://index.docker.io/v1/": { auth: b64("hub:hubpw") },
    "registry.internal:5000": { auth: b64("ci:cipw") },
  });
  assert.equal(merged.credsStore, "desktop");
  // The store would shadow our logins: an empty helper name selects the file for those two only.
  assert.deepEqual(merged.credHelpers, {
    "gcr.io": "gcloud",
    "https://index.docker.io/v1/": "",
    "registry.internal:5000": "",
  });
  assert.deepEqual(merged.proxies, user.proxies);
  assert.equal(merged.currentContext, "default");
});

test("without a credentials store no empty helpers are written", () => {
  const merged = mergeDockerConfig([], new Map([["ghcr.io", { username: "u", password: "p" }]]));
  assert.deepEqual(merged, { auths: { "ghcr.io": { auth: b64("u:p") } } });
});

const settings = (overrides: Partial<Settings>): Settings =>
  ({
    registry: "https://index.docker.io/v1/",
    insecure: false,
    region: "us-east-1",
    ...overrides,
  }) as Settings;

test("a build logs in to the push registry, the repo's registry, the base-image registry and ECR", () => {
  assert.deepEqual(
    buildLoginHosts(
      settings({
        registry: "https://r.example.com",
        repo: "r.example.com/team/app",
        baseImageRegistry: "base.example.com",
      }),
    ),
    ["r.example.com", "base.example.com"],
  );
  assert.deepEqual(buildLoginHosts(settings({ repo: "team/app" })), ["docker.io"]);
  assert.deepEqual(buildLoginHosts(settings({ repo: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app" })), [
    "docker.io",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
  ]);
});

test("buildkitd registry config for PLUGIN_INSECURE and PLUGIN_REGISTRY_CA", () => {
  assert.equal(buildkitdRegistryConfig(settings({ registry: "r.example.com" })), "", "nothing to say");
  assert.equal(
    buildkitdRegistryConfig(settings({ registry: "https://r.example.com:5000/", insecure: true })),
    '[registry."r.example.com:5000"]\n  http = true\n  insecure = true\n',
  );
  assert.equal(
    buildkitdRegistryConfig(settings({ registry: "r.example.com", registryCa: "certs/ca.pem" }), {
      cwd: "/work",
      env: { NODE_EXTRA_CA_CERTS: "/etc/extra.pem" },
    }),
    '[registry."r.example.com"]\n  ca = ["/work/certs/ca.pem", "/etc/extra.pem"]\n',
  );
  assert.deepEqual(tlsRegistryHosts(settings({ registry: "", repo: "r.example.com/app" })), [
    "r.example.com",
  ]);
  assert.deepEqual(tlsRegistryHosts(settings({ registry: "", repo: "app" })), []);
});
