import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { dockerArtifact, writeArtifactFile } from "../../lib/outputs/artifact-file.js";
import { droneOutputLines, writeDroneOutput } from "../../lib/outputs/drone-output.js";
import { tempDir } from "../helpers/tmp.js";

const digest = `sha256:${"a".repeat(64)}`;

test("DRONE_OUTPUT gets digest and the tarball path", async () => {
  assert.deepEqual(droneOutputLines({ mode: "build-only", tags: ["v1"], digest, tarPath: "/w/image.tar" }), [
    `digest=${digest}`,
    "IMAGE_TAR_PATH=/w/image.tar",
  ]);
  const dir = await tempDir();
  const file = join(dir.path, "out", "drone.env");
  await writeDroneOutput(file, { mode: "push-only", tags: ["v1"], digest });
  await writeDroneOutput(file, { mode: "push-only", tags: ["v2"], digest });
  assert.equal(await readFile(file, "utf8"), `digest=${digest}\ndigest=${digest}\n`);
  await dir.remove();
});

test("DRONE_OUTPUT gets the signature's and the attestation's digest and reference when signed", () => {
  const sig = `sha256:${"b".repeat(64)}`;
  const att = `sha256:${"c".repeat(64)}`;
  const ref = `r.example/app:sha256-${"a".repeat(64)}`;
  assert.deepEqual(
    droneOutputLines({
      mode: "push-only",
      tags: ["v1"],
      digest,
      signatureDigest: sig,
      signatureRef: `${ref}.sig`,
      attestationDigest: att,
      attestationRef: `${ref}.att`,
    }),
    [
      `digest=${digest}`,
      `signature_digest=${sig}`,
      `signature_ref=${ref}.sig`,
      `attestation_digest=${att}`,
      `attestation_ref=${ref}.att`,
    ],
  );
});

test("a line break in an output value is refused", () => {
  assert.throws(() => droneOutputLines({ mode: "build-only", tags: [], tarPath: "a\nevil=1" }), /line break/);
});

test("the artifact file is the plugin's docker/v1 shape, one image per tag", async () => {
  const result = {
    mode: "push-only" as const,
    image: "127.0.0.1:5000/app",
    tags: ["v1", "latest"],
    digest,
    registry: "127.0.0.1:5000",
  };
  assert.deepEqual(dockerArtifact(result), {
    kind: "docker/v1",
    data: {
      registryType: "Docker",
      registryUrl: "127.0.0.1:5000",
      images: [
        { image: "127.0.0.1:5000/app:v1", digest },
        { image: "127.0.0.1:5000/app:latest", digest },
      ],
    },
  });
  const dir = await tempDir();
  const file = join(dir.path, "artifact.json");
  await writeArtifactFile(file, result);
  assert.equal(JSON.parse(await readFile(file, "utf8")).kind, "docker/v1");
  await dir.remove();
});
