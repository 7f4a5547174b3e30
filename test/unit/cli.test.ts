import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Invocation } from "../../lib/cli/main.js";
import { main } from "../../lib/cli/main.js";
import { runCli } from "../helpers/cli.js";

const version = (
  JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

async function parse(argv: string[]): Promise<{ code: number; invocation?: Invocation }> {
  let seen: Invocation | undefined;
  const code = await main(argv, {}, async (invocation) => {
    seen = invocation;
    return 0;
  });
  return { code, invocation: seen };
}

test("--help lists the commands and exits 0", async () => {
  const result = await runCli(["--help"]);
  assert.equal(result.code, 0);
  for (const command of ["build", "push", "inspect", "config"])
    assert.match(result.stdout, new RegExp(`\\b${command}\\b`));
  assert.match(result.stdout, /PLUGIN_/);
});

test("--version prints the package version", async () => {
  const result = await runCli(["--version"]);
  assert.equal(result.code, 0);
  assert.equal(result.stdout.trim(), version);
});

test("an unknown flag is bad input: exit 2 with the flag named", async () => {
  const result = await runCli(["push", "--bogus"]);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /--bogus/);
});

test("no command is plugin mode", async () => {
  const { code, invocation } = await parse([]);
  assert.equal(code, 0);
  assert.equal(invocation?.command, "plugin");
  assert.deepEqual(invocation?.flags, []);
});

test("build flags become settings with their flag names", async () => {
  const { invocation } = await parse([
    "build",
    "--repo",
    "r/app",
    "-t",
    "a",
    "--tag",
    "b",
    "--no-push",
    "--no-cache",
    "ctx",
  ]);
  assert.equal(invocation?.command, "build");
  assert.deepEqual(invocation?.flags, [
    { setting: "repo", flag: "--repo", value: "r/app" },
    { setting: "tags", flag: "--tag", value: ["a", "b"] },
    { setting: "noCache", flag: "--no-cache", value: true },
    { setting: "dryRun", flag: "--no-push", value: true },
    { setting: "context", flag: "[context]", value: "ctx" },
    { setting: "pushOnly", flag: "build", value: false },
  ]);
});

test("push takes the tarball as an argument and sets push-only", async () => {
  const { invocation } = await parse(["--step", "push", "push", "image.tar", "--repo", "r/app", "--json"]);
  assert.equal(invocation?.command, "push");
  assert.equal(invocation?.step, "push");
  assert.equal(invocation?.json, true);
  assert.deepEqual(
    invocation?.flags.filter((f) => f.setting === "pushOnly" || f.setting === "sourceTarPath"),
    [
      { setting: "pushOnly", flag: "push", value: true },
      { setting: "sourceTarPath", flag: "[tarball]", value: "image.tar" },
    ],
  );
});

test("a failure in the run maps to its exit code", async () => {
  const { UsageError, StepFailure } = await import("../../lib/errors.js");
  assert.equal(await main(["config"], {}, async () => Promise.reject(new UsageError("bad"))), 2);
  assert.equal(await main(["config"], {}, async () => Promise.reject(new StepFailure("broken"))), 1);
});

test("a protocol failure's kind maps to its exit code: 2 for a fault of the input, else 1", async () => {
  const { ProtocolError } = await import("../../lib/protocol-error.js");
  const exit = (kind: "digest-mismatch" | "corrupt-archive" | "unauthorized" | "timed-out") =>
    main(["config"], {}, async () => Promise.reject(new ProtocolError(kind, "failed")));
  assert.equal(await exit("digest-mismatch"), 2);
  assert.equal(await exit("corrupt-archive"), 2);
  assert.equal(await exit("unauthorized"), 1);
  assert.equal(await exit("timed-out"), 1);
});

/** What `run` writes to stderr, write by write. */
async function stderrOf(run: () => Promise<unknown>): Promise<string[]> {
  const written: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    await run();
  } finally {
    process.stderr.write = original;
  }
  return written;
}

test("BUILDX_STEP_DEBUG prints the stack of a failure, never of bad input", async () => {
  const { StepFailure } = await import("../../lib/errors.js");
  const { ProtocolError } = await import("../../lib/protocol-error.js");
  const failing = (error: Error) =>
    stderrOf(() => main(["config"], { BUILDX_STEP_DEBUG: "true" }, async () => Promise.reject(error))).then(
      (written) => written.join(""),
    );
  assert.match(await failing(new StepFailure("broken")), /debug: StepFailure: broken\n\s+at /);
  assert.match(await failing(new ProtocolError("unreachable", "gone")), /debug: ProtocolError: gone\n\s+at /);
  assert.doesNotMatch(await failing(new ProtocolError("corrupt-archive", "cut short")), /\n\s+at /);
});

test("the final error line is masked with the run's secrets and the environment's secret settings", async () => {
  const { StepFailure } = await import("../../lib/errors.js");
  let code: number | undefined;
  const written = await stderrOf(async () => {
    const env = { PLUGIN_PASSWORD: "env-pass-1234" };
    const basic = Buffer.from("ci:env-pass-1234").toString("base64");
    code = await main(["config"], env, async (_invocation, _env, secrets) => {
      secrets.add("ci:env-pass-1234");
      secrets.add("run-token-5678");
      throw new StepFailure(`refused env-pass-1234 and run-token-5678 (Basic ${basic})`);
    });
  });
  assert.equal(code, 1);
  assert.deepEqual(written, ["error: refused *** and *** (Basic ***)\n"]);
});

test("--json failures: one JSON object on stdout naming the flag typed (CLI) or the variable (plugin)", async () => {
  const { tempDir } = await import("../helpers/tmp.js");
  const fixtures = await import("../helpers/archive-fixtures.js");
  const dir = await tempDir("buildx-step-cli-json-");
  try {
    const image = fixtures.sampleImage();
    const tarball = await fixtures.writeTar(
      `${dir.path}/one.tar`,
      fixtures.ociLayoutItems(
        [{ mediaType: image.mediaType, digest: image.manifest.digest, size: image.manifest.size }],
        fixtures.imageBlobs(image),
      ),
    );
    const bad = await runCli(["push", "--json", "--repo", "r/app", "--platform", "amd64", "-"]);
    assert.equal(bad.code, 2);
    assert.deepEqual(Object.keys(JSON.parse(bad.stdout).error), ["message", "exitCode", "setting"]);
    assert.equal(JSON.parse(bad.stdout).error.setting, "--platform");

    const cli = await runCli(["push", "--json", "--repo", "r/app", "--source-image", "nope:1", tarball]);
    assert.equal(cli.code, 2, cli.stderr);
    const { error } = JSON.parse(cli.stdout);
    assert.equal(error.exitCode, 2);
    assert.equal(error.setting, "--source-image");
    assert.match(error.message, /^--source-image "nope:1" is not an image of /);
    assert.match(cli.stderr, /set --source-image to one of these/);

    const plugin = await runCli([], {
      env: {
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_REPO: "r/app",
        PLUGIN_SOURCE_TAR_PATH: tarball,
        PLUGIN_SOURCE_IMAGE: "nope:1",
        PLUGIN_JSON: "true",
      },
    });
    assert.equal(plugin.code, 2, plugin.stderr);
    assert.match(plugin.stderr, /PLUGIN_SOURCE_IMAGE "nope:1" is not an image/);
  } finally {
    await dir.remove();
  }
});
