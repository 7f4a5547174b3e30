// Driver options a created builder gets from the run's environment (drone-buildx buildx.go
// appendProxyDriverOpts / appendHarnessCADriverOpts), and the golden create argv they end up in.
import assert from "node:assert/strict";
import { test } from "node:test";
import { builderCreateArgs } from "../../lib/buildx/builder-args.js";
import { builderEnvOpts, driverOptKeys } from "../../lib/buildx/builder-env-opts.js";
import { csvField, csvFields } from "../../lib/buildx/csv.js";
import { testSettings } from "../helpers/settings.js";

const proxyEnv = {
  http_proxy: "http://proxy.corp:3128",
  HTTPS_PROXY: "http://secure.corp:3129",
  HARNESS_NO_PROXY: "localhost,127.0.0.1,.corp",
  HARNESS_CA_PATH: "/etc/harness/ca.pem",
};

test("docker-container: proxies in the plugin's order, no_proxy quoted for buildx's CSV, network=host, CA path", () => {
  const result = builderEnvOpts("docker-container", proxyEnv, []);
  assert.deepEqual(result.opts, [
    "env.http_proxy=http://proxy.corp:3128",
    "env.https_proxy=http://secure.corp:3129",
    '"env.no_proxy=localhost,127.0.0.1,.corp"',
    "network=host",
    "env.HARNESS_CA_PATH=/etc/harness/ca.pem",
  ]);
  assert.deepEqual(result.warnings, []);
});

test("golden create argv: the user's options, then the environment's, then the config, then the endpoint", () => {
  const settings = testSettings({
    builderDriver: "docker-container",
    builderDriverOpts: ["image=moby/buildkit:v0.13.2"],
  });
  const fromEnv = builderEnvOpts("docker-container", proxyEnv, settings.builderDriverOpts);
  assert.deepEqual(
    builderCreateArgs(settings, {
      name: "b1",
      driverOpts: settings.builderDriverOpts,
      envOpts: fromEnv.opts,
      configFile: "/tmp/run/buildkitd.toml",
    }),
    [
      "buildx",
      "create",
      "--name",
      "b1",
      "--driver",
      "docker-container",
      "--driver-opt",
      "image=moby/buildkit:v0.13.2",
      "--driver-opt",
      "env.http_proxy=http://proxy.corp:3128",
      "--driver-opt",
      "env.https_proxy=http://secure.corp:3129",
      "--driver-opt",
      '"env.no_proxy=localhost,127.0.0.1,.corp"',
      "--driver-opt",
      "network=host",
      "--driver-opt",
      "env.HARNESS_CA_PATH=/etc/harness/ca.pem",
      "--buildkitd-config",
      "/tmp/run/buildkitd.toml",
    ],
  );
});

test("a proxy with credentials stays off the create argv, with a warning saying why; no network=host for it", () => {
  const password = "pr0xy-s3cret";
  const result = builderEnvOpts(
    "docker-container",
    { HTTP_PROXY: `http://bob:${password}@proxy.corp:3128`, no_proxy: "localhost" },
    [],
  );
  assert.deepEqual(result.opts, ["env.no_proxy=localhost"]);
  assert.equal(result.warnings.length, 1);
  assert.match(
    result.warnings[0] ?? "",
    /^HTTP_PROXY holds credentials, so it is not given to the builder.*command line/,
  );
  assert.equal(result.warnings[0]?.includes(password), false, "the warning does not repeat the secret");
  // The https proxy without credentials still goes, with network=host.
  const mixed = builderEnvOpts(
    "docker-container",
    { http_proxy: `http://bob:${password}@p:1`, https_proxy: "http://s:2" },
    [],
  );
  assert.deepEqual(mixed.opts, ["env.https_proxy=http://s:2", "network=host"]);
});

test("the user's own options win: a key they set is not added again", () => {
  const own = builderEnvOpts("docker-container", { http_proxy: "http://p:1" }, ["network=mynet"]);
  assert.deepEqual(own.opts, ["env.http_proxy=http://p:1"]);
  assert.deepEqual(own.notes, [
    "the builder's driver options set network: kept, not replaced from the environment",
  ]);
  // Their proxy option: ours is not added, and so no network=host is needed for it.
  const theirs = builderEnvOpts("docker-container", { http_proxy: "http://p:1" }, [
    "image=x,env.http_proxy=http://mine:2",
  ]);
  assert.deepEqual(theirs.opts, []);
  assert.deepEqual(
    [...driverOptKeys(['image=x,"env.no_proxy=a,b"', "network=host"])],
    ["image", "env.no_proxy", "network"],
  );
});

test("remote and kubernetes drivers take no env.* or network options: none, and a note saying so", () => {
  for (const driver of ["remote", "kubernetes"] as const) {
    const result = builderEnvOpts(driver, proxyEnv, []);
    assert.deepEqual(result.opts, [], driver);
    assert.match(
      result.notes.join("\n"),
      new RegExp(
        `http_proxy, https_proxy, no_proxy, HARNESS_CA_PATH: not passed to the builder: buildx's ${driver} driver`,
      ),
    );
  }
});

test("nothing in the environment: no options, no lines", () => {
  assert.deepEqual(builderEnvOpts("docker-container", {}, []), { opts: [], warnings: [], notes: [] });
  assert.deepEqual(builderEnvOpts("remote", {}, []), { opts: [], warnings: [], notes: [] });
});

test("CSV quoting as buildx reads a driver option", () => {
  assert.equal(csvField("env.a=b"), "env.a=b");
  assert.equal(csvField("env.a=b,c"), '"env.a=b,c"');
  assert.equal(csvField('env.a=say "x"'), '"env.a=say ""x"""');
  assert.deepEqual(csvFields('a=1,"b=2,3",c=""""'), ["a=1", "b=2,3", 'c="']);
});
