// Bake mode's pure parts: the golden `docker buildx bake` argv (drone-buildx commandBuildxBake), the per-target
// digests of bake's metadata, and the plan's warnings for build settings bake does not use.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bakeOptionTokens, buildxBakeArgs } from "../../lib/buildx/bake-args.js";
import { bakeTargets } from "../../lib/buildx/bake-metadata.js";
import { planBake } from "../../lib/modes/bake-plan.js";
import { testResolved, testSettings } from "../helpers/settings.js";

const META = "/tmp/w/metadata.json";

test("golden argv: -f, the builder, --push, the metadata file, then the options in order", () => {
  const settings = testSettings({
    bakeFile: "/src/docker-bake.hcl",
    bakeOptions: ["app", "--set", "*.platform=linux/amd64", "--push", "--load", "web"],
  });
  assert.deepEqual(
    buildxBakeArgs(settings, { builder: "buildx-step-ab12", push: true, metadataFile: META }),
    [
      "buildx",
      "bake",
      "-f",
      "/src/docker-bake.hcl",
      "--builder",
      "buildx-step-ab12",
      "--push",
      "--metadata-file",
      META,
      "app",
      "--set",
      "*.platform=linux/amd64",
      "web",
    ],
  );
});

test("golden argv: a dry run loads into the engine; no --builder for the current builder", () => {
  const settings = testSettings({ bakeFile: "bake.json" });
  assert.deepEqual(buildxBakeArgs(settings, { push: false, metadataFile: META }), [
    "buildx",
    "bake",
    "-f",
    "bake.json",
    "--load",
    "--metadata-file",
    META,
  ]);
});

test("bake options: trimmed, empty ones and --push/--load dropped (the plugin's rule)", () => {
  assert.deepEqual(bakeOptionTokens([" app ", "", "--push", " --load", "--set=a.b=c", "--pushx"]), {
    tokens: ["app", "--set=a.b=c", "--pushx"],
    dropped: ["--push", "--load"],
  });
});

// Recorded from buildx 0.13.1 (`bake --push --metadata-file`), one key trimmed; plus what newer buildx adds.
const metadata = {
  app: {
    "buildx.build.ref": "default/default/4dom09782hgbue3vdo8f3ezyz",
    "containerimage.config.digest": "sha256:ef0da46e736dd48fa8c4e6862420b97cd03cfd3daa039baecda03c5c91f36f27",
    "containerimage.descriptor": {
      mediaType: "application/vnd.oci.image.index.v1+json",
      digest: "sha256:ef0da46e736dd48fa8c4e6862420b97cd03cfd3daa039baecda03c5c91f36f27",
      size: 855,
    },
    "containerimage.digest": "sha256:ef0da46e736dd48fa8c4e6862420b97cd03cfd3daa039baecda03c5c91f36f27",
    "image.name": "127.0.0.1:5000/bktest/app:v1,127.0.0.1:5000/bktest/app:latest",
  },
  other: {
    "buildx.build.ref": "default/default/jq1oo7xx8r2anjwguav2v1z0r",
    "containerimage.descriptor": {
      mediaType: "application/vnd.oci.image.index.v1+json",
      digest: "sha256:8f623b9ce4144a4e2ff46ac3d23a6d1cc0eb98f9a17a60f0f6e927831a9070ea",
      size: 855,
    },
    "containerimage.digest": "sha256:8f623b9ce4144a4e2ff46ac3d23a6d1cc0eb98f9a17a60f0f6e927831a9070ea",
    "image.name": "127.0.0.1:5000/bktest/other:v1",
  },
  cacheonly: { "buildx.build.ref": "default/default/zzz" },
  "buildx.build.warnings": [{ vertex: "x", level: 1 }],
};

test("bake metadata: one entry per target (sorted), digests and image names; other keys are not targets", () => {
  assert.deepEqual(bakeTargets(metadata), [
    {
      name: "app",
      digest: "sha256:ef0da46e736dd48fa8c4e6862420b97cd03cfd3daa039baecda03c5c91f36f27",
      images: ["127.0.0.1:5000/bktest/app:v1", "127.0.0.1:5000/bktest/app:latest"],
    },
    { name: "cacheonly", images: [] },
    {
      name: "other",
      digest: "sha256:8f623b9ce4144a4e2ff46ac3d23a6d1cc0eb98f9a17a60f0f6e927831a9070ea",
      images: ["127.0.0.1:5000/bktest/other:v1"],
    },
  ]);
});

test("bake plan: a warning per group of build settings bake does not use, naming them as set", () => {
  const plan = planBake(
    testResolved(
      {
        bakeFile: "/src/docker-bake.hcl",
        dryRun: true,
        tarPath: "/out/a.tar",
        cacheFrom: ["type=local,src=/c"],
        noCache: true,
        repo: "r.example/app",
        tags: ["v1"],
        dockerfile: "Dockerfile.x",
        platforms: ["linux/arm64"],
      },
      ["bakeFile", "dryRun", "tarPath", "cacheFrom", "noCache", "repo", "tags", "dockerfile", "platforms"],
    ),
  );
  assert.equal(plan.mode, "build-only");
  assert.equal(plan.push, false);
  assert.deepEqual(plan.warnings, [
    "PLUGIN_TARPATH is not used in bake mode (PLUGIN_BAKEFILE): define outputs in the bake file",
    "PLUGIN_CACHEFROM, PLUGIN_NOCACHE are not used in bake mode (PLUGIN_BAKEFILE): define cache-from, cache-to and no-cache in the bake file",
    "PLUGIN_REPO, PLUGIN_TAGS are not used in bake mode (PLUGIN_BAKEFILE): the bake file's targets name their own tags",
    "PLUGIN_DOCKERFILE, PLUGIN_PLATFORMS are not used in bake mode (PLUGIN_BAKEFILE): define them in the bake file's targets, or pass --set through PLUGIN_BAKE_OPTIONS",
  ]);
});

test("bake plan: nothing set beside the bake file, no warning; --push in the options is a note", () => {
  const plan = planBake(testResolved({ bakeFile: "/b.hcl", bakeOptions: ["app", "--push"] }));
  assert.equal(plan.push, true);
  assert.equal(plan.mode, "build-and-push");
  assert.deepEqual(plan.warnings, []);
  assert.deepEqual(plan.notes, [
    "PLUGIN_BAKEOPTIONS: --push left out: PLUGIN_DRY_RUN decides between --push and --load (as in the plugin)",
  ]);
});
