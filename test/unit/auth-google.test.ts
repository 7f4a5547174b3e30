import assert from "node:assert/strict";
import { test } from "node:test";
import { cloudLoginOf } from "../../lib/auth/cloud-login.js";
import { cloudRegistryOf } from "../../lib/auth/cloud-registry.js";
import { decodeJsonKey } from "../../lib/auth/google-json-key.js";
import { UsageError } from "../../lib/errors.js";
import { namesSetting } from "../helpers/setting-names.js";
import { testSettings } from "../helpers/settings.js";

// A service account key file as Google writes it: pretty-printed, its private key with escaped line breaks.
const KEY = `{
  "type": "service_account",
  "project_id": "my-project",
  "private_key_id": "0123abcd",
  "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n",
  "client_email": "ci@my-project.iam.gserviceaccount.com"
}
`;
const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64");
/** The user and password a decided login gives, when the settings give them as they are. */
const credentialOf = (decided: ReturnType<typeof cloudLoginOf>) =>
  decided.login?.kind === "static" ? decided.login.credential : undefined;

test("a JSON key is used as given; base64 of it is decoded (one line, or wrapped at 76 as base64 writes it)", () => {
  assert.deepEqual(decodeJsonKey(KEY), { ok: true, form: "json", text: KEY });
  assert.deepEqual(decodeJsonKey(`  ${KEY}`), { ok: true, form: "json", text: `  ${KEY}` });
  assert.deepEqual(decodeJsonKey(b64(KEY)), { ok: true, form: "base64", text: KEY });
  const wrapped = (b64(KEY).match(/.{1,76}/g) ?? []).join("\n");
  assert.deepEqual(decodeJsonKey(`${wrapped}\n`), { ok: true, form: "base64", text: KEY });
  assert.deepEqual(decodeJsonKey(b64(KEY).replace(/\n/g, "\r\n")), { ok: true, form: "base64", text: KEY });
});

test("a value that is neither the key's JSON nor base64 of it is refused, with a reason that quotes none of it", () => {
  // A key whose base64 has padding and the characters + and / (the two alphabets differ there).
  const odd = b64(`{"private_key": "??>>??>>?"}`);
  assert.match(odd, /=$/);
  assert.match(odd, /[+/]/);
  assert.equal(decodeJsonKey(odd).ok, true);
  const cases = [
    '{"type": "service_account",', // cut short
    "[1, 2]".replace("[", "{["), // starts with { but is no object
    "not a key at all",
    odd.replace(/=+$/, ""), // padding lost: Go's StdEncoding refuses it too
    odd.replace(/\+/g, "-").replace(/\//g, "_"), // URL-safe alphabet
    b64("just some text"),
    b64("[1, 2]"),
    "",
  ];
  for (const value of cases) {
    const decoded = decodeJsonKey(value);
    assert.equal(decoded.ok, false, value);
    if (!decoded.ok && value.length > 3)
      assert.ok(!decoded.reason.includes(value.slice(0, 8)), decoded.reason);
  }
});

test("the cloud registry is PLUGIN_REGISTRY's host, of the kind PLUGIN_REGISTRY_TYPE or the host says", () => {
  assert.deepEqual(cloudRegistryOf({ registry: "gcr.io/my-project", repo: "test-image" }), {
    kind: "gcr",
    host: "gcr.io",
    because: "the GCR host in PLUGIN_REGISTRY",
  });
  assert.deepEqual(
    cloudRegistryOf({ registry: "us-docker.pkg.dev/my-project", repo: "my-repo/app", registryType: "gar" }),
    { kind: "gar", host: "us-docker.pkg.dev", because: "PLUGIN_REGISTRY_TYPE=gar" },
  );
  assert.deepEqual(cloudRegistryOf({ registry: "127.0.0.1:5000/my-project", registryType: "GCR" }), {
    kind: "gcr",
    host: "127.0.0.1:5000",
    because: "PLUGIN_REGISTRY_TYPE=GCR",
  });
  // No PLUGIN_REGISTRY (its default is Docker Hub): the repo's registry, as the wrappers' default would be.
  assert.deepEqual(cloudRegistryOf({ registry: "https://index.docker.io/v1/", repo: "eu.gcr.io/p/app" }), {
    kind: "gcr",
    host: "eu.gcr.io",
    because: "the GCR host in PLUGIN_REPO",
  });
  assert.equal(cloudRegistryOf({ registry: "https://index.docker.io/v1/", repo: "team/app" }), undefined);
  assert.equal(cloudRegistryOf({ registry: "registry.example.com", repo: "app" }), undefined);
  assert.equal(cloudRegistryOf({ registry: "gcr.io/p", registryType: "Docker" }), undefined);
  assert.equal(cloudRegistryOf({ registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com" }), undefined);
});

test("GCR/GAR login: the key as _json_key, else the access token as oauth2accesstoken; the key wins", () => {
  const base = { registry: "gcr.io/my-project", repo: "test-image" };
  const keyLogin = cloudLoginOf(testSettings({ ...base, jsonKey: b64(KEY) }));
  assert.equal(keyLogin.login?.kind, "static");
  assert.deepEqual(credentialOf(keyLogin), {
    username: "_json_key",
    password: KEY,
  });
  assert.equal(keyLogin.login?.registry.host, "gcr.io");
  assert.equal(keyLogin.login?.via, "PLUGIN_JSON_KEY (base64)");
  assert.deepEqual(keyLogin.warnings, []);

  const tokenLogin = cloudLoginOf(testSettings({ ...base, accessToken: "ya29.token" }));
  assert.deepEqual(credentialOf(tokenLogin), {
    username: "oauth2accesstoken",
    password: "ya29.token",
  });

  const both = cloudLoginOf(testSettings({ ...base, jsonKey: KEY, accessToken: "ya29.token" }));
  assert.deepEqual(credentialOf(both), {
    username: "_json_key",
    password: KEY,
  });
  assert.match(both.warnings.join("\n"), /ACCESS_TOKEN is not used: PLUGIN_JSON_KEY is/);

  assert.equal(cloudLoginOf(testSettings(base)).login, undefined, "nothing given: other sources are asked");
});

test("an explicit PLUGIN_PASSWORD for the same registry wins, and the key is then not even checked", () => {
  const decided = cloudLoginOf(
    testSettings({ registry: "gcr.io/p", username: "_json_key", password: "pw", jsonKey: "not a key" }),
  );
  assert.equal(decided.login, undefined);
  assert.equal(decided.registry?.host, "gcr.io");
});

test("a key for a registry that is no GCR or GAR is not used, nor checked", () => {
  for (const registry of ["registry.example.com", "https://index.docker.io/v1/"]) {
    assert.deepEqual(cloudLoginOf(testSettings({ registry, jsonKey: "not a key", accessToken: "t" })), {
      warnings: [],
    });
  }
});

test("a bad key is a UsageError naming the variable that gave it, never the key", () => {
  const secret = "not-a-Key-but-a-Secret";
  assert.throws(
    () =>
      cloudLoginOf(testSettings({ registry: "gcr.io/p", jsonKey: secret }), (key) =>
        key === "jsonKey" ? "GOOGLE_CREDENTIALS" : key,
      ),
    (error: unknown) =>
      error instanceof UsageError &&
      /^GOOGLE_CREDENTIALS is neither/.test(error.message) &&
      !error.message.includes(secret) &&
      namesSetting(error, "PLUGIN_JSON_KEY"),
  );
});
