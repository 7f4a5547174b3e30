/**
 * The single executable (scripts/build-sea.sh) runs the same flows as `node dist/bundle/buildx-step.cjs`:
 * the examples' pipelines (build-only to a tarball, inspect, scan, push-only of exactly that tarball) with it
 * as `buildx-step` on PATH, and a push-only in plugin mode. It is built first when missing or out of date.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { MANIFEST_MEDIA_TYPES } from "../../lib/reference/media-types.js";
import { runPipeline } from "../helpers/drone-runner.js";
import { examplesDir, runStepCommands, type StandIns, writeStandIns } from "../helpers/example-runner.js";
import { sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { repoRoot, singleExecutable } from "../helpers/shipped.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);
const LOGIN = { username: "ci", password: "sea-Registry-Pw-27" };

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let sea: string;
let standIns: StandIns;

before(async () => {
  sea = await singleExecutable();
  work = await tempDir("buildx-step-sea-");
  registry = await startRegistry({ auth: LOGIN });
  standIns = await writeStandIns(work.path, [sea]);
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

async function served(repository: string, tag: string): Promise<string | null> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      authorization: `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString("base64")}`,
      accept: MANIFEST_MEDIA_TYPES.join(", "),
    },
  });
  return response.status === 200 ? response.headers.get("docker-content-digest") : null;
}

test("the single executable runs without Node on PATH and knows its version", async () => {
  const { version } = JSON.parse(await readFile(join(repoRoot, "package.json"), "utf8")) as {
    version: string;
  };
  const { stdout } = await exec(sea, ["--version"], { env: { PATH: "/nonexistent" } });
  assert.equal(stdout.trim(), version);
});

test("single executable: examples/shell/build-scan-push.sh (build-only, inspect, scan, push-only)", async () => {
  const context = await sampleContext(join(work.path, "shell-app"));
  const result = await runStepCommands(
    `"${join(examplesDir, "shell", "build-scan-push.sh")}" "${context}"`,
    context,
    {
      PATH: standIns.path,
      REPO: `${registry.host}/sea/shell`,
      TAG: "1",
      REGISTRY_USERNAME: LOGIN.username,
      REGISTRY_PASSWORD: LOGIN.password,
      SCANNER: "trivy image --exit-code 1 --input",
    },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.doesNotMatch(result.stderr, /single-executable|ExperimentalWarning/, "no Node warning in the log");
  const pushed = JSON.parse(result.stdout) as { digest: string; mode: string };
  assert.equal(pushed.mode, "push-only");
  assert.match(result.stderr, /sha256:[a-f0-9]{64}/);
  assert.equal(await served("sea/shell", "1"), pushed.digest);
});

test("single executable: examples/drone/build-scan-push.yml as the exec runner runs it", async () => {
  const workspace = await sampleContext(join(work.path, "drone"));
  const text = (await readFile(join(examplesDir, "drone", "build-scan-push.yml"), "utf8")).replaceAll(
    "registry.example.com",
    registry.host,
  );
  const results = await runPipeline({
    text,
    workspace,
    drone: { DRONE_BUILD_NUMBER: "12", DRONE_WORKSPACE: workspace },
    secrets: { registry_password: LOGIN.password },
    path: standIns.path,
    outputDir: work.path,
  });
  for (const result of results) assert.equal(result.code, 0, `${result.name}: ${result.stderr}`);
  assert.equal(results.length, 3);
  const built = /digest=(sha256:[a-f0-9]{64})/.exec(results[0]?.output ?? "")?.[1];
  assert.ok(built, "the build step wrote its digest to DRONE_OUTPUT");
  for (const tag of ["12", "latest"]) assert.equal(await served("team/app", tag), built);

  // Push-only again, in plugin mode, to another repository: the tarball's digest again.
  const again = await runStepCommands("buildx-step", workspace, {
    PATH: standIns.path,
    PLUGIN_REPO: `${registry.host}/sea/again`,
    PLUGIN_PUSH_ONLY: "true",
    PLUGIN_SOURCE_TAR_PATH: "image.tar",
    PLUGIN_REGISTRY: registry.host,
    PLUGIN_USERNAME: LOGIN.username,
    PLUGIN_PASSWORD: LOGIN.password,
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await served("sea/again", "latest"), built);
});
