// Foreign (non-distributable) layers, as Windows base images have them: the tarball need not hold them,
// push-only does not upload them (as docker push and containerd do not), says so in its log, and the
// registry serves the manifest unchanged, URLs included, at the digest inspect reports. skopeo, an
// independent client, reads the manifest back.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { blob, ociLayoutItems, writeTar } from "../helpers/archive-fixtures.js";
import { runCli } from "../helpers/cli.js";
import { registryManifest } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

let work: Awaited<ReturnType<typeof tempDir>>;
let registry: RegistryServer;
before(async () => {
  work = await tempDir("buildx-step-foreign-");
  registry = await startRegistry({ allowForeignUrls: true });
});
after(async () => {
  await registry?.stop();
  await work?.remove();
});

test("a foreign layer absent from the tarball: not uploaded, logged, the manifest served with its URLs", async () => {
  const config = blob({ architecture: "amd64", os: "windows", rootfs: { type: "layers", diff_ids: [] } });
  const local = blob(`a layer the tarball holds ${Date.now()}`);
  const foreign = {
    mediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    digest: `sha256:${"f".repeat(64)}`,
    size: 123_456,
    urls: ["https://mcr.example.com/windows/servercore/base.tar.gz"],
  };
  const manifest = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: [
      foreign,
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: local.digest, size: local.size },
    ],
  });
  const tarball = await writeTar(
    join(work.path, "foreign.tar"),
    ociLayoutItems(
      [{ mediaType: OCI_MANIFEST, digest: manifest.digest, size: manifest.size }],
      [config, local, manifest],
    ),
  );

  const inspected = await runCli(["inspect", tarball]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.match(
    inspected.stdout,
    new RegExp(`foreign ${foreign.digest} .*not uploaded: fetched from https://mcr`),
  );

  const pushed = await runCli([], {
    env: {
      PLUGIN_PUSH_ONLY: "true",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${registry.host}/win/app`,
      PLUGIN_TAGS: "v1",
      CI: "true",
    },
  });
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.ok(
    pushed.stderr.includes(
      `1 foreign layer not uploaded: ${foreign.digest} (123.5 kB, from ${foreign.urls[0]})`,
    ),
    pushed.stderr,
  );
  assert.match(pushed.stderr, /1 foreign layer not uploaded\)/);

  const served = await registryManifest(`${registry.host}/win/app:v1`);
  assert.equal(served.digest, manifest.digest);
  assert.deepEqual(served.json.layers[0], foreign);
  const head = async (digest: string) =>
    (await fetch(`${registry.url}/v2/win/app/blobs/${digest}`, { method: "HEAD" })).status;
  assert.equal(await head(foreign.digest), 404, "the foreign layer was not uploaded");
  assert.equal(await head(local.digest), 200);
  assert.equal(await head(config.digest), 200);
});
