// Build args from the environment (proxies, PLUGIN_BUILD_ARGS_FROM_ENV) chosen as drone-buildx chooses them
// (docker.go addProxyBuildArgs / addProxyValue / hasProxyBuildArg), with the values kept off the argv.
import assert from "node:assert/strict";
import { test } from "node:test";
import { buildxBuildArgs } from "../../lib/buildx/build-args.js";
import { envBuildArgs } from "../../lib/buildx/env-build-args.js";
import { pluginEnvValue } from "../../lib/buildx/plugin-env.js";
import { hasUrlCredentials, urlCredentialSecrets } from "../../lib/url-credentials.js";
import { testSettings } from "../helpers/settings.js";

test("the plugin's lookup: the name, then upper case, then HARNESS_; empty counts as unset", () => {
  assert.deepEqual(pluginEnvValue({ http_proxy: "a", HTTP_PROXY: "b" }, "http_proxy"), {
    value: "a",
    from: "http_proxy",
  });
  assert.deepEqual(pluginEnvValue({ http_proxy: "", HTTP_PROXY: "b" }, "http_proxy"), {
    value: "b",
    from: "HTTP_PROXY",
  });
  assert.deepEqual(pluginEnvValue({ HARNESS_HTTP_PROXY: "c" }, "http_proxy"), {
    value: "c",
    from: "HARNESS_HTTP_PROXY",
  });
  assert.equal(pluginEnvValue({ HTTP_PROXY: "" }, "http_proxy"), undefined);
});

test("proxies: http, https, no_proxy in that order, each as name and NAME, values in the environment only", () => {
  const result = envBuildArgs(testSettings(), {
    http_proxy: "http://proxy.corp:3128",
    HTTPS_PROXY: "http://secure.corp:3129",
    HARNESS_NO_PROXY: "localhost,.corp",
  });
  assert.deepEqual(result.names, [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "no_proxy",
    "NO_PROXY",
  ]);
  assert.deepEqual(result.env, {
    http_proxy: "http://proxy.corp:3128",
    HTTP_PROXY: "http://proxy.corp:3128",
    https_proxy: "http://secure.corp:3129",
    HTTPS_PROXY: "http://secure.corp:3129",
    no_proxy: "localhost,.corp",
    NO_PROXY: "localhost,.corp",
  });
  assert.deepEqual(result.notes, [
    "build arg https_proxy: the value of HTTPS_PROXY",
    "build arg no_proxy: the value of HARNESS_NO_PROXY",
  ]);
  assert.deepEqual(result.secrets, []);
});

test("a user build arg that starts with the name, NAME or HARNESS_NAME keeps the proxy out (prefix match)", () => {
  const env = { http_proxy: "http://p:1", https_proxy: "http://s:2", no_proxy: "x" };
  for (const arg of [
    "http_proxy=http://mine:1",
    "HTTP_PROXY=http://mine:1",
    "HARNESS_HTTP_PROXY=z",
    "HTTP_PROXY_EXTRA=1",
  ]) {
    const result = envBuildArgs(testSettings({ buildArgs: [arg] }), env);
    assert.deepEqual(result.names, ["https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"], arg);
  }
});

test("PLUGIN_BUILD_ARGS_FROM_ENV after the proxies: name and NAME, once when upper case, nothing when unset", () => {
  const result = envBuildArgs(
    testSettings({
      buildArgs: ["VERSION=1.0"],
      buildArgsFromEnv: ["git_sha", "BUILD_ID", "missing", "HTTP_PROXY", "VERSION", "git_sha"],
    }),
    { http_proxy: "http://p:1", GIT_SHA: "abc123", HARNESS_BUILD_ID: "42", missing: "" },
  );
  assert.deepEqual(result.names, ["http_proxy", "HTTP_PROXY", "git_sha", "GIT_SHA", "BUILD_ID"]);
  assert.deepEqual(result.env, {
    http_proxy: "http://p:1",
    HTTP_PROXY: "http://p:1",
    git_sha: "abc123",
    GIT_SHA: "abc123",
    BUILD_ID: "42",
  });
  assert.deepEqual(result.notes, [
    "build arg git_sha: the value of GIT_SHA",
    "build arg BUILD_ID: the value of HARNESS_BUILD_ID",
  ]);
});

test("credentials in a proxy URL are secrets to mask; detection with or without a scheme", () => {
  const result = envBuildArgs(testSettings(), { https_proxy: "http://bob:s%40cret@proxy:3128/" });
  assert.deepEqual(result.secrets, ["bob:s%40cret", "s%40cret", "s@cret"]);
  assert.equal(hasUrlCredentials("http://bob:pw@proxy:3128"), true);
  assert.equal(hasUrlCredentials("bob:pw@proxy:3128"), true);
  assert.equal(hasUrlCredentials("http://TOKEN@proxy"), true);
  assert.equal(hasUrlCredentials("http://proxy:3128/path@x"), false);
  assert.equal(hasUrlCredentials("localhost,.corp"), false);
  assert.deepEqual(urlCredentialSecrets("http://TOKEN@proxy"), ["TOKEN"]);
  assert.deepEqual(urlCredentialSecrets("http://user:@proxy"), []);
});

test("golden argv: the names after the user's build args, no value anywhere on the command line", () => {
  const settings = testSettings({ buildArgs: ["A=1"], autoLabel: false, pullImage: false });
  const env = { http_proxy: "http://bob:pw@proxy:3128", GIT_SHA: "deadbeef" };
  const fromEnv = envBuildArgs({ ...settings, buildArgsFromEnv: ["GIT_SHA"] }, env);
  const args = buildxBuildArgs(settings, {
    output: { kind: "push" },
    dockerfile: "Dockerfile",
    context: ".",
    imageRefs: ["reg.example/app:latest"],
    metadataFile: "/tmp/m.json",
    progress: "plain",
    created: "2026-01-02T03:04:05Z",
    envBuildArgs: fromEnv.names,
  });
  assert.deepEqual(args, [
    "buildx",
    "build",
    "--progress",
    "plain",
    "--file",
    "Dockerfile",
    "--tag",
    "reg.example/app:latest",
    "--build-arg",
    "A=1",
    "--build-arg",
    "http_proxy",
    "--build-arg",
    "HTTP_PROXY",
    "--build-arg",
    "GIT_SHA",
    "--push",
    "--metadata-file",
    "/tmp/m.json",
    ".",
  ]);
  const joined = args.join(" ");
  for (const value of Object.values(env)) assert.equal(joined.includes(value), false, value);
});
