// The plugin's cross-setting rules, with the variables Harness's Build and Push steps send (harness-core
// PluginSettingUtils, see the method named in each case) and what the plugin's wrappers make of them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { joinRepo, kindOfHost, registryKindOf } from "../../lib/config/registry-kind.js";
import { resolveSettings } from "../../lib/config/resolve.js";
import { closestName, unknownVariableWarnings } from "../../lib/config/unknown-variables.js";
import { UsageError } from "../../lib/errors.js";
import { tempDir } from "../helpers/tmp.js";

async function resolveEnv(env: NodeJS.ProcessEnv) {
  const dir = await tempDir("plugin-rules-");
  try {
    return await resolveSettings({ env, flags: [], cwd: dir.path });
  } finally {
    await dir.remove();
  }
}

test("registry kinds by host: ECR (private, FIPS, China, public), GCR, Artifact Registry, ACR; others none", () => {
  assert.equal(kindOfHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), "ecr");
  assert.equal(kindOfHost("123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"), "ecr");
  assert.equal(kindOfHost("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"), "ecr");
  assert.equal(kindOfHost("public.ecr.aws"), "ecr");
  assert.equal(kindOfHost("gcr.io"), "gcr");
  assert.equal(kindOfHost("eu.gcr.io"), "gcr");
  assert.equal(kindOfHost("us-docker.pkg.dev"), "gar");
  assert.equal(kindOfHost("europe-west1-docker.pkg.dev"), "gar");
  assert.equal(kindOfHost("myregistry.azurecr.io"), "acr");
  assert.equal(kindOfHost("registry.example.com"), undefined);
  assert.equal(kindOfHost("docker.io"), undefined);
  assert.equal(kindOfHost("notgcr.io"), undefined);
  // PLUGIN_REGISTRY_TYPE names the kind whatever the host (a proxy, a custom domain); Docker is no kind.
  assert.deepEqual(registryKindOf("gar", "us-docker.pkg.dev/p"), {
    kind: "gar",
    because: "PLUGIN_REGISTRY_TYPE=gar",
  });
  assert.equal(registryKindOf("ECR", "registry.internal:5000")?.kind, "ecr");
  assert.equal(registryKindOf("Docker", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"), undefined);
  assert.equal(registryKindOf(undefined, "https://index.docker.io/v1/"), undefined);
});

test("the wrappers' join: ECR/ACR concatenate, GCR/GAR path-join, all only when the repo lacks the prefix", () => {
  const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
  assert.deepEqual(joinRepo("ecr", ecr, "test-image"), { kind: "joined", repo: `${ecr}/test-image` });
  assert.deepEqual(joinRepo("ecr", ecr, `${ecr}/test-image`), { kind: "as-is" });
  assert.deepEqual(joinRepo("ecr", `https://${ecr}/`, "team/app"), {
    kind: "joined",
    repo: `${ecr}/team/app`,
  });
  assert.deepEqual(joinRepo("gcr", "gcr.io/my-project/", "/test-image"), {
    kind: "joined",
    repo: "gcr.io/my-project/test-image",
  });
  assert.deepEqual(joinRepo("gar", "us-docker.pkg.dev/my-project", "my-repo/test-image"), {
    kind: "joined",
    repo: "us-docker.pkg.dev/my-project/my-repo/test-image",
  });
  assert.deepEqual(joinRepo("acr", "myregistry.azurecr.io", "myregistry.azurecr.io/test-image"), {
    kind: "as-is",
  });
  // Another registry's host in the repo: not pushed to `ecr/other-host/app`.
  assert.deepEqual(joinRepo("ecr", ecr, "ghcr.io/team/app"), { kind: "other-registry", repoHost: "ghcr.io" });
});

test("a join never leaves the registry: . and .. in the repo or the registry are kept, and the name is refused", async () => {
  assert.deepEqual(joinRepo("gcr", "gcr.io/my-project", "x/../../../evil.example/app"), {
    kind: "joined",
    repo: "gcr.io/my-project/x/../../../evil.example/app",
  });
  for (const [registry, repo] of [
    ["gcr.io/my-project", "x/../../../evil.example/app"],
    ["europe-docker.pkg.dev/proj/repo", "app/../../../../evil.example/x"],
    ["gcr.io/..", "app"],
    ["gcr.io/my-project/.", "app"],
  ]) {
    await assert.rejects(
      resolveEnv({ PLUGIN_REGISTRY: registry, PLUGIN_REPO: repo, PLUGIN_TAGS: "1" }),
      (error: unknown) =>
        error instanceof UsageError &&
        error.exitCode === 2 &&
        /PLUGIN_REPO ".*" is not a valid repository name: "\.\.?" must be/.test(error.message),
      `${registry} + ${repo}`,
    );
  }
});

test("ECR step (getECRStepInfoEnvVariables, VM): the bare image name is joined to the ECR registry", async () => {
  const resolved = await resolveEnv({
    PLUGIN_REGISTRY: "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
    PLUGIN_REPO: "test-image",
    PLUGIN_TAGS: "new-1",
    PLUGIN_REGION: "eu-west-1",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_ACCESS_KEY: "AKIAEXAMPLE",
    PLUGIN_SECRET_KEY: "SECRETEXAMPLE",
  });
  assert.equal(resolved.settings.repo, "123456789012.dkr.ecr.eu-west-1.amazonaws.com/test-image");
  assert.equal(resolved.sources.repo?.kind, "env");
  assert.match(
    resolved.sources.repo?.note ?? "",
    /joined with PLUGIN_REGISTRY \(the ECR host in PLUGIN_REGISTRY\)/,
  );
  assert.deepEqual(resolved.warnings, []);
});

test("GCR and GAR steps (getGCRStepInfoEnvVariables, getGARStepInfoEnvVariables): host/project + image", async () => {
  const gcr = await resolveEnv({
    PLUGIN_REGISTRY: "gcr.io/my-project",
    PLUGIN_REPO: "test-image",
    PLUGIN_TAGS: "new-1",
  });
  assert.equal(gcr.settings.repo, "gcr.io/my-project/test-image");
  const gar = await resolveEnv({
    PLUGIN_REGISTRY: "us-docker.pkg.dev/my-project",
    PLUGIN_REPO: "my-repo/test-image",
    PLUGIN_TAGS: "new-1",
    PLUGIN_REGISTRY_TYPE: "gar",
  });
  assert.equal(gar.settings.repo, "us-docker.pkg.dev/my-project/my-repo/test-image");
  // drone-buildx-gar: no PLUGIN_REGISTRY, the location gives the host.
  const located = await resolveEnv({
    PLUGIN_LOCATION: "europe-west1",
    PLUGIN_REPO: "proj/repo/app",
    PLUGIN_TAGS: "1",
  });
  assert.equal(located.settings.registry, "europe-west1-docker.pkg.dev");
  assert.equal(located.settings.repo, "europe-west1-docker.pkg.dev/proj/repo/app");
});

test("ACR step (getACRStepInfoEnvVariables): the full repository stays as it is", async () => {
  const acr = await resolveEnv({
    PLUGIN_REPO: "myregistry.azurecr.io/test-image",
    PLUGIN_REGISTRY: "myregistry.azurecr.io",
    PLUGIN_TAGS: "new-1",
  });
  assert.equal(acr.settings.repo, "myregistry.azurecr.io/test-image");
  assert.equal(acr.sources.repo?.note, undefined);
});

test("Docker registry step (getDockerStepInfoEnvVariables): never joined; a bare repo with another registry is warned about", async () => {
  const hub = await resolveEnv({
    PLUGIN_REPO: "myuser/test-image",
    PLUGIN_REGISTRY: "https://index.docker.io/v1/",
    PLUGIN_USERNAME: "myuser",
    PLUGIN_PASSWORD: "token-123",
    PLUGIN_TAGS: "new-1",
  });
  assert.equal(hub.settings.repo, "myuser/test-image");
  assert.deepEqual(hub.warnings, []);

  const elsewhere = await resolveEnv({
    PLUGIN_REPO: "test-image",
    PLUGIN_REGISTRY: "registry.example.com",
    PLUGIN_TAGS: "1",
  });
  assert.equal(elsewhere.settings.repo, "test-image");
  assert.equal(elsewhere.warnings.length, 1);
  assert.match(
    elsewhere.warnings[0] ?? "",
    /PLUGIN_REPO=test-image names no registry, so the image goes to Docker Hub \(docker\.io\/library\/test-image\), not to PLUGIN_REGISTRY=registry\.example\.com.*write PLUGIN_REPO=registry\.example\.com\/test-image/,
  );
});

test("unknown PLUGIN_* variables get a warning with the closest known name", () => {
  assert.equal(closestName("PLUGIN_PLATFORMS", ["PLUGIN_PLATFORM", "PLUGIN_TAGS"]), "PLUGIN_PLATFORM");
  const warnings = unknownVariableWarnings({
    PLUGIN_PLATFORMS: "linux/amd64",
    PLUGIN_DRYRUN: "true",
    PLUGIN_SOURCE_TAR: "image.tar",
    PLUGIN_COMPLETELY_DIFFERENT_THING: "x",
    PLUGIN_TAGS: "1",
    PLUGIN_DAEMON_OFF: "true",
    PLUGIN_ENV_FILE: ".env",
    HOME: "/root",
  });
  assert.deepEqual(warnings, [
    "PLUGIN_COMPLETELY_DIFFERENT_THING is not a setting of buildx-step or the Drone/Harness buildx plugin and is ignored",
    "PLUGIN_DRYRUN is not a setting and is ignored: did you mean PLUGIN_DRY_RUN?",
    "PLUGIN_PLATFORMS is not a setting and is ignored: did you mean PLUGIN_PLATFORM?",
    "PLUGIN_SOURCE_TAR is not a setting and is ignored: did you mean PLUGIN_SOURCE_TAR_PATH?",
  ]);
});
