/**
 * The pipelines users copy from examples/ work as written: the shell script and the Drone pipeline run here
 * with the real engine, buildx and a registry on loopback (the registry's name in the example is replaced by
 * the test registry's, the secret by the test's). Each builds, scans (trivy's stand-in reads the tarball with
 * skopeo) and pushes, and the registry then serves the digest the build reported. The Harness example runs in
 * harness-contract.test.ts, beside the ECR registry it names.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { MANIFEST_MEDIA_TYPES } from "../../lib/reference/media-types.js";
import { runPipeline } from "../helpers/drone-runner.js";
import { examplesDir, runStepCommands, type StandIns, writeStandIns } from "../helpers/example-runner.js";
import { sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

/** Every manifest type, so the registry serves what it stores (asked for less, it may convert it). */
const MANIFEST_TYPES = MANIFEST_MEDIA_TYPES.join(", ");

const LOGIN = { username: "ci", password: "example-Registry-Pw-51" };

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let standIns: StandIns;

before(async () => {
  work = await tempDir("buildx-step-examples-");
  registry = await startRegistry({ auth: LOGIN });
  standIns = await writeStandIns(work.path);
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

/** The digest the registry serves for `repository:tag`, asked with the login. */
async function served(repository: string, tag: string): Promise<string | null> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      authorization: `Basic ${Buffer.from(`${LOGIN.username}:${LOGIN.password}`).toString("base64")}`,
      accept: MANIFEST_TYPES,
    },
  });
  return response.status === 200 ? response.headers.get("docker-content-digest") : null;
}

test("examples/shell/build-scan-push.sh builds, scans and pushes exactly the scanned image", async () => {
  const context = await sampleContext(join(work.path, "shell-app"));
  const result = await runStepCommands(
    `"${join(examplesDir, "shell", "build-scan-push.sh")}" "${context}"`,
    context,
    {
      PATH: standIns.path,
      REPO: `${registry.host}/examples/shell`,
      TAG: "1.4.2",
      REGISTRY_USERNAME: LOGIN.username,
      REGISTRY_PASSWORD: LOGIN.password,
      // The script's default scanner is trivy (here its stand-in); SCANNER replaces it.
      SCANNER: "trivy image --exit-code 1 --input",
    },
  );
  assert.equal(result.code, 0, result.stderr);
  assert.ok(!(result.stdout + result.stderr).includes(LOGIN.password));
  const pushed = JSON.parse(result.stdout) as { digest: string; mode: string };
  assert.equal(pushed.mode, "push-only");
  assert.match(result.stderr, new RegExp(`built ${registry.host}/examples/shell:1.4.2 at ${pushed.digest}`));
  assert.equal(await served("examples/shell", "1.4.2"), pushed.digest);
  assert.match(await readFile(standIns.scanLog, "utf8"), /image\.tar\n/);
});

test("examples/drone/build-scan-push.yml: each step as the exec runner runs it", async () => {
  const workspace = await sampleContext(join(work.path, "drone-workspace"));
  const text = (await readFile(join(examplesDir, "drone", "build-scan-push.yml"), "utf8")).replaceAll(
    "registry.example.com",
    registry.host,
  );
  assert.match(text, /^type: exec$/m);
  const results = await runPipeline({
    text,
    workspace,
    drone: { DRONE_BUILD_NUMBER: "7", DRONE_WORKSPACE: workspace },
    secrets: { registry_password: LOGIN.password },
    path: standIns.path,
    outputDir: work.path,
  });
  const outputs: Record<string, string> = {};
  for (const result of results) {
    assert.equal(result.code, 0, `${result.name}: ${result.stderr}`);
    assert.ok(
      !(result.stdout + result.stderr).includes(LOGIN.password),
      `${result.name} printed the password`,
    );
    outputs[result.name] = result.output;
  }
  const built = /digest=(sha256:[a-f0-9]{64})/.exec(outputs.build ?? "")?.[1];
  assert.ok(built, "the build step wrote its digest to DRONE_OUTPUT");
  assert.match(outputs.push ?? "", new RegExp(`digest=${built}`));
  for (const tag of ["7", "latest"]) assert.equal(await served("team/app", tag), built);
  assert.match(await readFile(standIns.scanLog, "utf8"), /image\.tar/);
});
