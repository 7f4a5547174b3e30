import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "../../lib/errors.js";
import { BLOB_DIGEST, digestOf, SHA256_DIGEST } from "../../lib/reference/digest.js";
import { isLoopbackHost, normalizeRegistryHost, registryHostOf } from "../../lib/reference/host.js";
import {
  canonicalImageName,
  fullTaggedName,
  parseImageReference,
  parseRepository,
  splitTag,
  TAG_PATTERN,
} from "../../lib/reference/name.js";

test("Docker Hub names get docker.io and library/, and the registry-1 endpoint", () => {
  assert.deepEqual(parseRepository("alpine"), {
    host: "docker.io",
    endpoint: "registry-1.docker.io",
    path: "library/alpine",
    full: "docker.io/library/alpine",
  });
  assert.equal(parseRepository("team/app").full, "docker.io/team/app");
  assert.equal(parseRepository("docker.io/app").full, "docker.io/library/app");
  assert.equal(parseRepository("index.docker.io/team/app").full, "docker.io/team/app");
});

test("a first component with a dot, a port or localhost is the registry", () => {
  assert.deepEqual(parseRepository("127.0.0.1:5000/app"), {
    host: "127.0.0.1:5000",
    endpoint: "127.0.0.1:5000",
    path: "app",
    full: "127.0.0.1:5000/app",
  });
  assert.equal(parseRepository("localhost/a/b/c").host, "localhost");
  assert.equal(parseRepository("ghcr.io/org/app").path, "org/app");
  assert.equal(
    parseRepository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app").host,
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
  );
  // Not a host: no dot, no port: a Hub namespace.
  assert.equal(parseRepository("myorg/app").host, "docker.io");
});

test("a repository with a tag, a digest, upper case or bad separators is bad input naming the setting", () => {
  for (const bad of [
    "app:1.0",
    "host:5000/app:v1",
    `app@sha256:${"a".repeat(64)}`,
    "Team/App",
    "a//b",
    "a-/b",
    "",
  ]) {
    assert.throws(
      () => parseRepository(bad),
      (error: unknown) => error instanceof UsageError && /PLUGIN_REPO/.test(error.message),
      bad,
    );
  }
});

test("full references as tarballs record them", () => {
  const parsed = parseImageReference("example.com/x/app:1");
  assert.equal(parsed?.repository.full, "example.com/x/app");
  assert.equal(parsed?.tag, "1");
  assert.equal(parseImageReference("app")?.repository.full, "docker.io/library/app");
  assert.equal(parseImageReference("localhost:5000/app")?.tag, undefined);
  const digest = `sha256:${"b".repeat(64)}`;
  assert.equal(parseImageReference(`app:1@${digest}`)?.digest, digest);
  assert.equal(parseImageReference("app:bad tag"), undefined);
});

test("registry settings in any spelling become host[:port]", () => {
  assert.equal(normalizeRegistryHost("https://index.docker.io/v1/"), "docker.io");
  assert.equal(normalizeRegistryHost("registry-1.docker.io"), "docker.io");
  assert.equal(normalizeRegistryHost("http://Registry.Example.com:5000/"), "registry.example.com:5000");
  assert.equal(normalizeRegistryHost("ghcr.io"), "ghcr.io");
});

test("tags are checked against the reference grammar", () => {
  assert.ok(TAG_PATTERN.test("v1.2.3-rc_1"));
  assert.ok(TAG_PATTERN.test("a".repeat(128)));
  for (const bad of ["-x", ".x", "a".repeat(129), "a/b", "a:b", ""]) assert.ok(!TAG_PATTERN.test(bad), bad);
});

test("loopback hosts, as docker counts them", () => {
  for (const host of ["localhost", "localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000"]) {
    assert.ok(isLoopbackHost(host), host);
  }
  for (const host of ["128.0.0.1", "registry.local:5000", "localhost.example.com"])
    assert.ok(!isLoopbackHost(host), host);
});

test("a registry host that a URL would read as another host is bad input", () => {
  for (const bad of [
    "evil.example#.gcr.io/app",
    "evil.example?.azurecr.io/app",
    "evil.example\\.gcr.io/app",
    "evil.example%23.gcr.io/app",
    "evil.example .gcr.io/app",
    "-evil.example/app",
    "https:/app",
  ]) {
    assert.throws(
      () => parseRepository(bad),
      (error: unknown) =>
        error instanceof UsageError &&
        /PLUGIN_REPO .* does not start with a registry host/.test(error.message),
      bad,
    );
  }
  assert.equal(parseRepository("[::1]:5000/app").host, "[::1]:5000");
  assert.equal(parseRepository("my-registry.example.com/team/app").host, "my-registry.example.com");
  assert.equal(parseRepository("Registry.Example.com:443/app").host, "registry.example.com:443");
});

test("docker's rule: a first component with a dot, a port or localhost, before a /, names the registry", () => {
  assert.equal(registryHostOf("ghcr.io/org/app"), "ghcr.io");
  assert.equal(registryHostOf("127.0.0.1:5000/app"), "127.0.0.1:5000");
  assert.equal(registryHostOf("localhost/app"), "localhost");
  assert.equal(registryHostOf("Registry.Example.com/app"), "Registry.Example.com", "as written");
  assert.equal(registryHostOf(undefined), undefined);
  for (const hub of ["app", "team/app", "ghcr.io", "localhost", "localhost:5000", "my_org/app"])
    assert.equal(registryHostOf(hub), undefined, hub);
});

test("repo:tag splits at the tag after the last colon that follows the last slash, not at a registry port", () => {
  assert.deepEqual(splitTag("127.0.0.1:5000/app:v1"), { name: "127.0.0.1:5000/app", tag: "v1" });
  assert.deepEqual(splitTag("127.0.0.1:5000/app"), { name: "127.0.0.1:5000/app" });
  assert.deepEqual(splitTag("127.0.0.1:5000/team/app:v1"), { name: "127.0.0.1:5000/team/app", tag: "v1" });
  assert.deepEqual(splitTag("127.0.0.1:5000/team/app"), { name: "127.0.0.1:5000/team/app" });
});

test("names as an archive records them compare in docker's familiar-name expansion", () => {
  assert.equal(canonicalImageName("app"), "docker.io/library/app:latest");
  assert.equal(canonicalImageName("x/app:1"), "docker.io/x/app:1");
  assert.equal(canonicalImageName("docker.io/app:1"), "docker.io/library/app:1");
  assert.equal(canonicalImageName("localhost:5000/app"), "localhost:5000/app:latest");
  const digest = `sha256:${"c".repeat(64)}`;
  assert.equal(canonicalImageName(`app@${digest}`), `docker.io/library/app@${digest}`);
  // Nothing is checked or normalised: the text of any recorded name has a key.
  assert.equal(canonicalImageName("Index.Docker.io/x/App"), "Index.Docker.io/x/App:latest");
});

test("a tag reference in full, for the engine's names; digests and invalid names have none", () => {
  assert.equal(fullTaggedName("app"), "docker.io/library/app:latest");
  assert.equal(fullTaggedName("index.docker.io/x/app:1"), "docker.io/x/app:1");
  assert.equal(fullTaggedName("127.0.0.1:5000/app:v1"), "127.0.0.1:5000/app:v1");
  assert.equal(fullTaggedName(`app@sha256:${"d".repeat(64)}`), undefined);
  assert.equal(fullTaggedName("Bad/Name"), undefined);
});

test("digests: sha256 for what registries serve, sha512 too for an image's blobs", () => {
  const sha256 = `sha256:${"a".repeat(64)}`;
  const sha512 = `sha512:${"b".repeat(128)}`;
  assert.ok(SHA256_DIGEST.test(sha256));
  assert.ok(!SHA256_DIGEST.test(sha512));
  assert.ok(BLOB_DIGEST.test(sha256) && BLOB_DIGEST.test(sha512));
  for (const bad of [
    `sha256:${"A".repeat(64)}`,
    `sha256:${"a".repeat(63)}`,
    `md5:${"a".repeat(32)}`,
    ` ${sha256}`,
  ])
    assert.ok(!SHA256_DIGEST.test(bad) && !BLOB_DIGEST.test(bad), bad);
  assert.equal(
    digestOf(Buffer.from("")),
    "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.match(digestOf(Buffer.from(""), "sha512"), /^sha512:cf83e135/);
});
