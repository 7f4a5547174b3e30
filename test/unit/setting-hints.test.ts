import assert from "node:assert/strict";
import { test } from "node:test";
import { archiveError } from "../../lib/archive/errors.js";
import type { SettingKey } from "../../lib/config/schema.js";
import { PushRefused } from "../../lib/daemon/push.js";
import { exitCodeOf, StepFailure } from "../../lib/errors.js";
import { withSettingHints } from "../../lib/modes/setting-hints.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { RegistryHttpError } from "../../lib/registry/errors.js";
import { PartialPushError } from "../../lib/registry/push.js";

/** CLI mode: the flag of the command for each setting. */
const flags = (key: SettingKey) =>
  ({ username: "--username", password: "--password", registryCa: "--registry-ca", insecure: "--insecure" })[
    key as string
  ] ?? key;

test("a refused login names the login settings, as the variables in plugin mode and the flags in CLI mode", () => {
  const refused = () =>
    new RegistryHttpError("check of blob", 401, [], {
      hint: "the registry refused the credentials",
      login: "r:5000",
    });
  assert.equal(
    (withSettingHints(refused()) as Error).message,
    "check of blob: the registry answered HTTP 401: the registry refused the credentials; check PLUGIN_USERNAME and PLUGIN_PASSWORD (or the docker config) for r:5000",
  );
  assert.match((withSettingHints(refused(), flags) as Error).message, /check --username and --password \(or/);
  // A 401 from elsewhere (object storage) is not about the login: no hint.
  const elsewhere = new RegistryHttpError("read of blob", 401, []);
  assert.equal(
    (withSettingHints(elsewhere) as Error).message,
    "read of blob: the registry answered HTTP 401",
  );
});

test("the hint goes right after the failure's words, wherever a wrapper quoted them", () => {
  const cause = new RegistryHttpError("manifest v2", 401, [], { hint: "refused", login: "r" });
  const partial = new PartialPushError(
    `${cause.message}; tags written before the failure: v1`,
    ["v1"],
    cause,
  );
  const wrapped = withSettingHints(new StepFailure(`${partial.message}; more`, { cause: partial }));
  assert.equal(
    (wrapped as Error).message,
    "manifest v2: the registry answered HTTP 401: refused; check PLUGIN_USERNAME and PLUGIN_PASSWORD (or the docker config) for r; tags written before the failure: v1; more",
  );
  assert.equal(exitCodeOf(wrapped), 1);
});

test("an untrusted certificate names the CA and insecure settings; an unreadable CA file its setting", () => {
  const untrusted = new ProtocolError(
    "untrusted-certificate",
    "cannot reach the registry r: https://r: self-signed (SELF_SIGNED_CERT_IN_CHAIN)",
  );
  assert.match(
    (withSettingHints(untrusted, flags) as Error).message,
    /\(SELF_SIGNED_CERT_IN_CHAIN\): set --registry-ca to the PEM file .*, or --insecure=true to skip verification$/,
  );
  const unreadable = withSettingHints(
    new ProtocolError("unreadable-ca", "cannot read the CA file /x (ENOENT)"),
  );
  assert.equal((unreadable as Error).message, "PLUGIN_REGISTRY_CA: cannot read the CA file /x (ENOENT)");
  assert.equal(exitCodeOf(unreadable), 2);
});

test("a missing tarball names the setting it came from; other archive failures get no setting", () => {
  const missing = archiveError("/x.tar", "no such file", "check the path", "no-such-file");
  assert.equal(
    (withSettingHints(missing, () => "the tarball argument") as Error).message,
    "image tarball /x.tar: no such file; check the path (the tarball argument)",
  );
  const corrupt = archiveError("/y.tar", "truncated");
  const words = corrupt.message;
  assert.equal((withSettingHints(corrupt) as Error).message, words);
});

test("the engine's relayed refusal gets the hint of its kind", () => {
  const refused = new PushRefused("r/app:v1", "unauthorized: authentication required", "r");
  assert.equal(refused.kind, "unauthorized");
  assert.match(
    (withSettingHints(refused, flags) as Error).message,
    /^pushing r\/app:v1 failed: unauthorized: authentication required: the registry r did not accept the credentials: check --username and --password/,
  );
  const other = new PushRefused("r/app:v1", "blob upload unknown", "r");
  assert.equal(other.kind, "engine-refused");
  assert.equal((withSettingHints(other) as Error).message, "pushing r/app:v1 failed: blob upload unknown");
});
