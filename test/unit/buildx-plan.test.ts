// What a build run decides from the settings alone: the mode's output, names, Dockerfile, refusals.
import assert from "node:assert/strict";
import { test } from "node:test";
import { resolveSettings } from "../../lib/config/resolve.js";
import { UsageError } from "../../lib/errors.js";
import { planBuild } from "../../lib/modes/build-plan.js";
import { testResolved } from "../helpers/settings.js";

const plugin = { command: "plugin" as const };

function refuses(run: () => unknown, ...settings: string[]) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof UsageError, `expected UsageError, got ${error}`);
    assert.equal(error.exitCode, 2);
    for (const name of settings) assert.match(error.message, new RegExp(name));
    return true;
  });
}

test("default: build and push every tag", () => {
  const plan = planBuild(testResolved({ repo: "127.0.0.1:5000/app", tags: ["v1", "latest"] }), plugin);
  assert.equal(plan.mode, "build-and-push");
  assert.deepEqual(plan.output, { kind: "push" });
  assert.deepEqual(plan.imageRefs, ["127.0.0.1:5000/app:v1", "127.0.0.1:5000/app:latest"]);
});

test("push needs PLUGIN_REPO; a bad tag or repo is refused", () => {
  refuses(() => planBuild(testResolved({}), plugin), "PLUGIN_REPO", "PLUGIN_DRY_RUN");
  refuses(() => planBuild(testResolved({ repo: "app", tags: ["-bad"] }), plugin), "PLUGIN_TAGS");
  refuses(() => planBuild(testResolved({ repo: "app:v1" }), plugin), "PLUGIN_REPO");
});

test("dry run + tar path: a tarball in the format asked for", () => {
  const plan = planBuild(
    testResolved({ repo: "app", dryRun: true, tarPath: "/out/app.tar", outputFormat: "oci" }),
    plugin,
  );
  assert.equal(plan.mode, "build-only");
  assert.deepEqual(plan.output, { kind: "tar", format: "oci", path: "/out/app.tar", alsoLoad: false });
});

test("several platforms, format not set: OCI, and the run says so", () => {
  const resolved = testResolved(
    { dryRun: true, tarPath: "/out/a.tar", platforms: ["linux/amd64", "linux/arm64"] },
    ["dryRun", "tarPath", "platforms"],
  );
  const plan = planBuild(resolved, plugin);
  // The format was not set, so the plugin would have loaded the image: it goes into the engine as well.
  assert.deepEqual(plan.output, { kind: "tar", format: "oci", path: "/out/a.tar", alsoLoad: true });
  assert.match(plan.notes.join("\n"), /OCI tarball.*docker format cannot hold/);
});

test("several platforms with docker asked for: refused before building, saying to use oci", () => {
  const resolved = testResolved({
    dryRun: true,
    tarPath: "/out/a.tar",
    outputFormat: "docker",
    platforms: ["linux/amd64", "linux/arm64"],
  });
  refuses(() => planBuild(resolved, plugin), "PLUGIN_BUILDX_OUTPUT_FORMAT=oci", "PLUGIN_PLATFORM");
});

test("dry run + load; dry run alone loads on the engine's builder, keeps only the cache on a created one", () => {
  assert.deepEqual(planBuild(testResolved({ dryRun: true, load: true }), plugin).output, { kind: "load" });
  // The plugin's dry run uses the docker driver's default output: the engine's image store.
  assert.deepEqual(planBuild(testResolved({ dryRun: true }), plugin).output, { kind: "load" });
  // A builder of its own keeps the result in its cache unless asked to load it (as buildx does).
  assert.deepEqual(
    planBuild(testResolved({ dryRun: true, builderDriver: "docker-container" }), plugin).output,
    { kind: "cacheOnly" },
  );
  assert.deepEqual(planBuild(testResolved({ dryRun: true, builderName: "mine" }), plugin).output, {
    kind: "cacheOnly",
  });
  // Said explicitly: no load.
  assert.deepEqual(planBuild(testResolved({ dryRun: true, load: false }), plugin).output, {
    kind: "cacheOnly",
  });
  assert.deepEqual(planBuild(testResolved({ dryRun: true, load: true, tarPath: "/o.tar" }), plugin).output, {
    kind: "tar",
    format: "docker",
    path: "/o.tar",
    alsoLoad: true,
  });
});

test("dry run + tar path: also loaded into the engine unless the format or PLUGIN_BUILDX_LOAD says otherwise", () => {
  const tar = (overrides: Parameters<typeof testResolved>[0], explicit: string[]) =>
    planBuild(testResolved({ dryRun: true, tarPath: "/o.tar", ...overrides }, explicit as never), plugin)
      .output;
  assert.deepEqual(tar({}, ["dryRun", "tarPath"]), {
    kind: "tar",
    format: "docker",
    path: "/o.tar",
    alsoLoad: true,
  });
  // The plugin writes a tarball of an explicit format with --output alone: nothing is loaded.
  assert.equal(
    (tar({ outputFormat: "oci" }, ["dryRun", "tarPath", "outputFormat"]) as { alsoLoad: boolean }).alsoLoad,
    false,
  );
  assert.equal(
    (tar({ load: false }, ["dryRun", "tarPath", "load"]) as { alsoLoad: boolean }).alsoLoad,
    false,
  );
  assert.equal(
    (
      tar({ builderDriver: "docker-container" }, ["dryRun", "tarPath", "builderDriver"]) as {
        alsoLoad: boolean;
      }
    ).alsoLoad,
    false,
  );
});

test("tar path and load without dry run: pushed, with a warning", () => {
  const plan = planBuild(testResolved({ repo: "app", tarPath: "/o.tar", load: true }), plugin);
  assert.deepEqual(plan.output, { kind: "push" });
  assert.equal(plan.warnings.length, 2);
});

test("a cache export other than inline moves the build to a docker-container builder, as the plugin does", () => {
  const plan = planBuild(testResolved({ repo: "app", cacheTo: ["type=registry,ref=app:cache"] }), plugin);
  assert.equal(plan.settings.builderDriver, "docker-container");
  const inline = planBuild(testResolved({ repo: "app", cacheTo: ["type=inline"] }), plugin);
  assert.equal(inline.settings.builderDriver, undefined);
});

test("Dockerfile: plugin mode passes it as given (relative to the working folder, as buildx reads -f)", () => {
  const plan = planBuild(testResolved({ repo: "app", context: "svc" }, ["repo", "context"]), plugin);
  assert.equal(plan.dockerfile, "Dockerfile");
  assert.equal(plan.context, "svc");
});

test("Dockerfile: the build command looks in the context unless -f was given", () => {
  const build = { command: "build" as const };
  assert.equal(
    planBuild(testResolved({ repo: "app", context: "svc" }, ["repo", "context"]), build).dockerfile,
    "svc/Dockerfile",
  );
  assert.equal(
    planBuild(testResolved({ repo: "app", context: "svc", dockerfile: "x/D" }), build).dockerfile,
    "x/D",
  );
});

test("bad builder settings are refused before anything runs", () => {
  refuses(
    () => planBuild(testResolved({ repo: "app", builderDriver: "lxc" }), plugin),
    "PLUGIN_BUILDER_DRIVER",
  );
  refuses(
    () => planBuild(testResolved({ repo: "app", secretsFromFile: ["nofile"] }), plugin),
    "PLUGIN_SECRETS_FROM_FILE",
  );
});

test("a tar path without a dry run is warned about once: by the plan, not by the resolver too", async () => {
  const resolved = await resolveSettings({
    env: { PLUGIN_REPO: "registry.example.com/app", PLUGIN_TAR_PATH: "/nowhere/image.tar" },
    flags: [],
    cwd: "/",
  });
  const plan = planBuild(resolved, plugin);
  const tarWarnings = [...resolved.warnings, ...plan.warnings].filter((w) => /TAR_PATH/.test(w));
  assert.equal(tarWarnings.length, 1, tarWarnings.join("\n"));
  assert.match(
    tarWarnings[0] ?? "",
    /^PLUGIN_TAR_PATH is set but PLUGIN_DRY_RUN is not true: the image is pushed/,
  );
});
