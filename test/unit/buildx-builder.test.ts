// The builder's lifecycle with a fake runner: PLUGIN_BUILDER_DRIVER_OPTS_NEW first, and the plugin's
// fallback to PLUGIN_BUILDER_DRIVER_OPTS when its create or its bootstrap fails; removal exactly once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { driverOptAttempts, prepareBuilder } from "../../lib/buildx/builder.js";
import type { CleanupAction, CleanupScope } from "../../lib/buildx/cleanup.js";
import { DockerCommandFailure, type DockerRunner } from "../../lib/buildx/runner.js";
import type { Settings } from "../../lib/config/settings.js";
import { UsageError } from "../../lib/errors.js";
import { testSettings } from "../helpers/settings.js";

interface Harness {
  calls: string[];
  warnings: string[];
  infos: string[];
  scope: CleanupScope;
  controller: AbortController;
  /** Runs the scope's undo actions, last first, as withCleanup does. */
  cleanup(): Promise<void>;
  run(settings: Partial<Settings>): Promise<string | undefined>;
}

/** `fails(args)` says whether a command fails; every call is recorded as `verb opts...`. */
function harness(fails: (args: readonly string[]) => boolean): Harness {
  const calls: string[] = [];
  const warnings: string[] = [];
  const infos: string[] = [];
  const actions: CleanupAction[] = [];
  const controller = new AbortController();
  const record = (args: readonly string[]) => {
    const opts = args.flatMap((arg, i) => (args[i - 1] === "--driver-opt" ? [arg] : []));
    calls.push([args[1], ...opts].join(" "));
    if (fails(args))
      throw new DockerCommandFailure(`docker ${args[1]} failed (exit code 1): ERROR: no`, [], 1);
  };
  const runner: DockerRunner = {
    async stream(args) {
      record(args);
    },
    async capture(args) {
      record(args);
      return "";
    },
  };
  const scope: CleanupScope = { add: (action) => actions.push(action), signal: controller.signal };
  return {
    calls,
    warnings,
    infos,
    scope,
    controller,
    async cleanup() {
      while (actions.length > 0) await (actions.pop() as CleanupAction)();
    },
    run: (settings) =>
      prepareBuilder(testSettings({ builderDriver: "docker-container", builderName: "b1", ...settings }), {
        env: {},
        runner,
        scope,
        workDir: "/nonexistent/not-written-without-ca",
        command: { env: {}, signal: controller.signal },
        info: (m) => infos.push(m),
        warn: (m) => warnings.push(m),
      }),
  };
}

const both = { builderDriverOptsNew: ["image=new:1"], builderDriverOpts: ["image=old:1"] };

test("the attempts: PLUGIN_BUILDER_DRIVER_OPTS_NEW, then PLUGIN_BUILDER_DRIVER_OPTS; the latter alone without NEW", () => {
  assert.deepEqual(driverOptAttempts(testSettings(both)), [
    { setting: "PLUGIN_BUILDER_DRIVER_OPTS_NEW", driverOpts: ["image=new:1"] },
    { setting: "PLUGIN_BUILDER_DRIVER_OPTS", driverOpts: ["image=old:1"] },
  ]);
  assert.deepEqual(driverOptAttempts(testSettings({ builderDriverOpts: ["image=old:1"] })), [
    { setting: "PLUGIN_BUILDER_DRIVER_OPTS", driverOpts: ["image=old:1"] },
  ]);
});

test("NEW starts: one builder, made with NEW, removed once at the end", async () => {
  const h = harness(() => false);
  assert.equal(await h.run(both), "b1");
  await h.cleanup();
  assert.deepEqual(h.calls, ["create image=new:1", "inspect", "rm"]);
  assert.deepEqual(h.warnings, []);
});

test("NEW fails to create: a warning, then the builder is made with PLUGIN_BUILDER_DRIVER_OPTS", async () => {
  const h = harness((args) => args[1] === "create" && args.includes("image=new:1"));
  assert.equal(await h.run(both), "b1");
  await h.cleanup();
  assert.deepEqual(h.calls, ["create image=new:1", "create image=old:1", "inspect", "rm"]);
  assert.equal(h.warnings.length, 1);
  assert.match(
    h.warnings[0] ?? "",
    /^the builder did not start with PLUGIN_BUILDER_DRIVER_OPTS_NEW: docker create failed .*; creating it again with PLUGIN_BUILDER_DRIVER_OPTS, as the plugin does$/,
  );
});

test("NEW fails to boot: that builder is removed at once, the second is made under the same name", async () => {
  let bootstraps = 0;
  const h = harness((args) => args[1] === "inspect" && ++bootstraps === 1);
  assert.equal(await h.run(both), "b1");
  assert.deepEqual(h.calls, ["create image=new:1", "inspect", "rm", "create image=old:1", "inspect"]);
  await h.cleanup();
  assert.deepEqual(h.calls.slice(5), ["rm"], "the second builder is removed at the end, the first not twice");
});

test("both fail: the second failure is the run's, and the second builder is removed at the end", async () => {
  const h = harness((args) => args[1] === "inspect");
  await assert.rejects(h.run(both), DockerCommandFailure);
  await h.cleanup();
  assert.deepEqual(h.calls, ["create image=new:1", "inspect", "rm", "create image=old:1", "inspect", "rm"]);
});

test("NEW fails and PLUGIN_BUILDER_DRIVER_OPTS is empty: buildx's defaults, and the warning says so", async () => {
  const h = harness((args) => args.includes("image=new:1"));
  assert.equal(await h.run({ builderDriverOptsNew: ["image=new:1"] }), "b1");
  assert.deepEqual(h.calls, ["create image=new:1", "create", "inspect"]);
  assert.match(h.warnings[0] ?? "", /PLUGIN_BUILDER_DRIVER_OPTS \(not set: buildx's default options\)/);
});

test("without NEW there is no second attempt", async () => {
  const h = harness((args) => args[1] === "inspect");
  await assert.rejects(h.run({ builderDriverOpts: ["image=old:1"] }), DockerCommandFailure);
  await h.cleanup();
  assert.deepEqual(h.calls, ["create image=old:1", "inspect", "rm"]);
});

test("stopped while NEW boots: no second attempt; the scope removes the builder", async () => {
  let h: Harness | undefined;
  h = harness((args) => {
    if (args[1] !== "inspect") return false;
    h?.controller.abort();
    return true;
  });
  await assert.rejects(h.run(both), DockerCommandFailure);
  await h.cleanup();
  assert.deepEqual(h.calls, ["create image=new:1", "inspect", "rm"]);
  assert.deepEqual(h.warnings, []);
});

test("bad input for either attempt is refused before any builder exists", async () => {
  const h = harness(() => false);
  await assert.rejects(h.run({ ...both, builderDriver: "remote" }), UsageError);
  assert.deepEqual(h.calls, []);
});
