import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseCredentialHelperAnswer } from "../../lib/auth/cred-helper.js";
import {
  credentialFromAuthEntry,
  helperFor,
  loadPluginConfig,
  loadUserDockerConfig,
  lookupByRegistry,
  parseDockerConfig,
  secretsInConfig,
} from "../../lib/auth/docker-config.js";
import {
  credentialHost,
  DOCKER_HUB_CONFIG_KEY,
  dockerConfigKey,
  sameRegistry,
} from "../../lib/auth/hosts.js";
import { UsageError } from "../../lib/errors.js";

const b64 = (text: string) => Buffer.from(text).toString("base64");

test("Docker Hub's names are one registry, keyed as docker keys it", () => {
  for (const name of [
    "docker.io",
    "index.docker.io",
    "https://index.docker.io/v1/",
    "registry-1.docker.io",
    "DOCKER.IO",
    "",
  ]) {
    assert.equal(credentialHost(name), "docker.io", name);
    assert.equal(dockerConfigKey(name), DOCKER_HUB_CONFIG_KEY, name);
  }
  assert.equal(credentialHost("https://Registry.Example.com:5000/v2/"), "registry.example.com:5000");
  assert.equal(dockerConfigKey("http://127.0.0.1:5000"), "127.0.0.1:5000");
  assert.ok(sameRegistry("https://index.docker.io/v1/", "registry-1.docker.io"));
  assert.ok(!sameRegistry("ghcr.io", "docker.io"));
});

test("auths entries are found under any spelling of the registry", () => {
  const auths = {
    "https://index.docker.io/v1/": { auth: b64("hubuser:hubpass") },
    "http://registry.example.com:5000/v1/": { username: "u", password: "p" },
    "ghcr.io": { auth: b64("gh:token") },
  };
  assert.deepEqual(credentialFromAuthEntry(lookupByRegistry(auths, "docker.io"), "cfg"), {
    username: "hubuser",
    password: "hubpass",
  });
  assert.deepEqual(credentialFromAuthEntry(lookupByRegistry(auths, "registry-1.docker.io"), "cfg"), {
    username: "hubuser",
    password: "hubpass",
  });
  assert.deepEqual(credentialFromAuthEntry(lookupByRegistry(auths, "registry.example.com:5000"), "cfg"), {
    username: "u",
    password: "p",
  });
  assert.equal(lookupByRegistry(auths, "registry.example.com"), undefined, "the port is part of the host");
  assert.equal(lookupByRegistry(auths, "quay.io"), undefined);
});

test("an auth entry may hold a password with colons, an identity token, a registry token, or nothing", () => {
  assert.deepEqual(credentialFromAuthEntry({ auth: b64("user:pa:ss:word") }, "cfg"), {
    username: "user",
    password: "pa:ss:word",
  });
  assert.deepEqual(credentialFromAuthEntry({ auth: b64("user:"), identitytoken: "refresh-123" }, "cfg"), {
    username: "user",
    password: "",
    identityToken: "refresh-123",
  });
  assert.deepEqual(credentialFromAuthEntry({ registrytoken: "bearer-xyz" }, "cfg"), {
    registryToken: "bearer-xyz",
  });
  assert.equal(credentialFromAuthEntry({}, "cfg"), undefined, "docker writes {} beside a credentials store");
  assert.throws(() => credentialFromAuthEntry({ auth: b64("no-colon") }, "cfg"), UsageError);
});

test("the helper for a registry: its credHelpers entry, else credsStore; an empty entry means none", () => {
  const config = {
    credsStore: "desktop",
    credHelpers: { "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login", "ghcr.io": "" },
  };
  assert.equal(helperFor(config, "123456789012.dkr.ecr.us-east-1.amazonaws.com"), "ecr-login");
  assert.equal(helperFor(config, "quay.io"), "desktop");
  assert.equal(helperFor(config, "ghcr.io"), undefined);
  assert.equal(helperFor({}, "quay.io"), undefined);
});

test("config errors name the source and never quote its secrets", () => {
  const text = '{"auths": {"r.example.com": {"auth": "c2VjcmV0LXZhbHVl"}}, oops}';
  const error = (() => {
    try {
      parseDockerConfig(text, "PLUGIN_CONFIG");
    } catch (e) {
      return e as Error;
    }
  })();
  assert.ok(error instanceof UsageError);
  assert.match(error.message, /^PLUGIN_CONFIG is not valid JSON/);
  assert.doesNotMatch(error.message, /c2VjcmV0/);
  assert.throws(() => parseDockerConfig("[]", "PLUGIN_CONFIG"), /must be a JSON object/);
  assert.throws(() => parseDockerConfig('{"auths": []}', "PLUGIN_CONFIG"), /"auths" must be an object/);
});

test("every secret written in a config is found for masking", () => {
  const secrets = secretsInConfig({
    auths: {
      a: { auth: b64("u:first-secret") },
      b: { password: "second-secret", identitytoken: "third-secret" },
    },
  });
  for (const s of [b64("u:first-secret"), "first-secret", "second-secret", "third-secret"]) {
    assert.ok(secrets.includes(s), s);
  }
});

test("PLUGIN_CONFIG is JSON or a path; the user's config is DOCKER_CONFIG/config.json", async () => {
  const dir = await mkdtemp(join(tmpdir(), "auth-config-"));
  try {
    const json = JSON.stringify({ auths: { "r.example.com": { auth: b64("u:p") } } });
    const inline = await loadPluginConfig(`  ${json}\n`, dir);
    assert.equal(inline?.origin, "PLUGIN_CONFIG");
    assert.ok(inline?.config.auths?.["r.example.com"]);

    await writeFile(join(dir, "plugin.json"), json);
    const fromFile = await loadPluginConfig("plugin.json", dir);
    assert.equal(fromFile?.origin, join(dir, "plugin.json"));
    await assert.rejects(loadPluginConfig("missing.json", dir), (e: Error) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /PLUGIN_CONFIG: cannot read docker config file .*missing\.json \(ENOENT\)/);
      return true;
    });
    assert.equal(await loadPluginConfig(undefined, dir), undefined);

    assert.equal(await loadUserDockerConfig({ DOCKER_CONFIG: dir }), undefined, "no config.json: no logins");
    await writeFile(join(dir, "config.json"), json);
    const user = await loadUserDockerConfig({ DOCKER_CONFIG: dir });
    assert.equal(user?.dir, dir);
    const viaHome = await loadUserDockerConfig({ HOME: join(dir, "nohome") });
    assert.equal(viaHome, undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a credential helper's answer: user + secret, an identity token, or nothing", () => {
  assert.deepEqual(parseCredentialHelperAnswer('{"ServerURL":"r","Username":"u","Secret":"s"}'), {
    username: "u",
    password: "s",
  });
  assert.deepEqual(parseCredentialHelperAnswer('{"ServerURL":"r","Username":"<token>","Secret":"refresh"}'), {
    identityToken: "refresh",
  });
  assert.equal(parseCredentialHelperAnswer('{"ServerURL":"r","Username":"","Secret":""}'), undefined);
  assert.throws(() => parseCredentialHelperAnswer("not json"), /not JSON/);
});
