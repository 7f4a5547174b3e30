/**
 * The plugin image (Dockerfile, built by scripts/build-image.sh with its base image made locally when it
 * cannot be pulled) runs the seed pipeline as Drone and Harness run plugins: examples/drone/
 * plugin-build-scan-push.yml, each buildx-step step a `docker run` with PLUGIN_* settings, the workspace at
 * /drone/src and the engine's socket: build-only to a tarball, inspect, scan, push-only of that tarball.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MANIFEST_MEDIA_TYPES } from "../../lib/reference/media-types.js";
import { runPipeline } from "../helpers/drone-runner.js";
import { examplesDir, type StandIns, writeStandIns } from "../helpers/example-runner.js";
import { sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { pluginImage } from "../helpers/shipped.js";
import { tempDir } from "../helpers/tmp.js";

const LOGIN = { username: "ci", password: "image-Registry-Pw-83" };

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let image: string;
let standIns: StandIns;

before(async () => {
  image = await pluginImage();
  work = await tempDir("buildx-step-image-");
  registry = await startRegistry({ auth: LOGIN });
  standIns = await writeStandIns(work.path);
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

test("plugin image: examples/drone/plugin-build-scan-push.yml as Drone's docker runner runs it", async () => {
  const workspace = await sampleContext(join(work.path, "workspace"));
  const text = (await readFile(join(examplesDir, "drone", "plugin-build-scan-push.yml"), "utf8")).replaceAll(
    "registry.example.com",
    registry.host,
  );
  const results = await runPipeline({
    text,
    workspace,
    drone: { DRONE_BUILD_NUMBER: "31" },
    secrets: { registry_password: LOGIN.password },
    path: standIns.path,
    images: { "buildx-step": image },
  });
  for (const result of results) {
    assert.equal(result.code, 0, `${result.name}: ${result.stderr}`);
    assert.ok(
      !(result.stdout + result.stderr).includes(LOGIN.password),
      `${result.name} printed the password`,
    );
  }
  assert.deepEqual(
    results.map((r) => r.name),
    ["build", "inspect", "scan", "push"],
  );
  const inspected = /digest\s+(sha256:[a-f0-9]{64})/.exec(results[1]?.stdout ?? "")?.[1];
  assert.ok(inspected, `inspect printed the tarball's digest:\n${results[1]?.stdout}`);
  assert.match(await readFile(standIns.scanLog, "utf8"), /image\.tar/);
  for (const tag of ["31", "latest"]) {
    const response = await fetch(`${registry.url}/v2/team/app/manifests/${tag}`, {
      method: "HEAD",
      headers: {
        authorization: `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString("base64")}`,
        accept: MANIFEST_MEDIA_TYPES.join(", "),
      },
    });
    assert.equal(response.headers.get("docker-content-digest"), inspected, `tag ${tag}`);
  }
});
