// Result files (DRONE_OUTPUT, PLUGIN_ARTIFACT_FILE, PLUGIN_METADATA_FILE) are checked with the other inputs:
// one that cannot be written is bad input (exit 2) before anything is pushed, not a failure after the tag
// moved. And they are written without following a link planted at their path: the link is replaced.
import assert from "node:assert/strict";
import { lstat, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { buildTarball, registryTags, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
let tarball: string;

before(async () => {
  work = await tempDir("buildx-step-outputs-");
  registry = await startRegistry();
  const context = await sampleContext(join(work.path, "ctx"));
  tarball = await buildTarball({ context, dest: join(work.path, "image.tar"), format: "oci" });
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

function pushOnly(repository: string, extra: Record<string, string>) {
  return runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${registry.host}/${repository}`,
      PLUGIN_TAGS: "1.0",
      ...extra,
    },
  });
}

async function catalog(): Promise<string[]> {
  const body = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
  return body.repositories;
}

test("an output file that cannot be written is refused before the push: exit 2, no repository, no tag", async () => {
  const folder = join(work.path, "a-folder");
  await mkdir(folder);
  const plainFile = join(work.path, "plain-file");
  await writeFile(plainFile, "x");
  const cases: [string, string, RegExp][] = [
    ["DRONE_OUTPUT", folder, /DRONE_OUTPUT: .*a-folder is a folder; give a file name/],
    [
      "PLUGIN_ARTIFACT_FILE",
      join(plainFile, "artifact.json"),
      /PLUGIN_ARTIFACT_FILE: .*plain-file is a file/,
    ],
    [
      "PLUGIN_METADATA_FILE",
      join(plainFile, "deeper", "m.json"),
      /PLUGIN_METADATA_FILE: .*plain-file is a file/,
    ],
  ];
  for (const [variable, path, message] of cases) {
    const result = await pushOnly("refused", { [variable]: path });
    assert.equal(result.code, 2, `${variable}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /nothing was built or pushed/);
  }
  assert.deepEqual(await catalog(), []);
});

test("a link at an output path is replaced by a file; what it pointed at is untouched", async () => {
  const outside = join(work.path, "outside");
  await mkdir(outside);
  const victimOutput = join(outside, "victim.env");
  const victimArtifact = join(outside, "victim.json");
  await writeFile(victimOutput, "KEEP=1\n");
  await writeFile(victimArtifact, "{}\n");
  const outputs = join(work.path, "outputs");
  await mkdir(outputs);
  const droneOutput = join(outputs, "drone.env");
  const artifact = join(outputs, "artifact.json");
  await symlink(victimOutput, droneOutput);
  await symlink(victimArtifact, artifact);

  const result = await pushOnly("linked", { DRONE_OUTPUT: droneOutput, PLUGIN_ARTIFACT_FILE: artifact });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await registryTags(registry.url, "linked"), ["1.0"]);

  assert.equal(await readFile(victimOutput, "utf8"), "KEEP=1\n");
  assert.equal(await readFile(victimArtifact, "utf8"), "{}\n");
  for (const path of [droneOutput, artifact])
    assert.ok((await lstat(path)).isFile(), `${path} is a file now`);
  assert.match(await readFile(droneOutput, "utf8"), /^digest=sha256:[a-f0-9]{64}\n$/);
  const written = JSON.parse(await readFile(artifact, "utf8")) as { kind: string };
  assert.equal(written.kind, "docker/v1");
});

test("DRONE_OUTPUT that is a regular file keeps what earlier steps wrote", async () => {
  const droneOutput = join(work.path, "kept.env");
  await writeFile(droneOutput, "EARLIER=1\n");
  const result = await pushOnly("appended", { DRONE_OUTPUT: droneOutput });
  assert.equal(result.code, 0, result.stderr);
  assert.match(await readFile(droneOutput, "utf8"), /^EARLIER=1\ndigest=sha256:[a-f0-9]{64}\n$/);
});
