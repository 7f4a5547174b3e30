import assert from "node:assert/strict";
import { test } from "node:test";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { RegistryClient } from "../../lib/registry/client.js";
import { checkNextUrl, describeUrl, sameOrigin } from "../../lib/registry/origin.js";
import { checkRealm } from "../../lib/registry/realm.js";
import { followsRedirect } from "../../lib/registry/redirect.js";

const url = (text: string) => new URL(text);

test("an origin is scheme, host and port; default ports and host case do not matter", () => {
  assert.ok(sameOrigin(url("https://Registry.example.com/v2/"), url("https://registry.example.com:443/x")));
  assert.ok(!sameOrigin(url("https://registry.example.com"), url("http://registry.example.com")));
  assert.ok(!sameOrigin(url("https://registry.example.com"), url("https://registry.example.com:5000")));
  assert.ok(!sameOrigin(url("https://registry.example.com"), url("https://storage.example.com")));
  assert.ok(!sameOrigin(url("file:///etc/passwd"), url("file:///etc/passwd")), "not http: no origin");
});

test("a request never goes from https to http, nor off http(s)", () => {
  assert.doesNotThrow(() => checkNextUrl("op", url("https://a"), url("https://b/x"), "a redirect"));
  assert.doesNotThrow(() => checkNextUrl("op", url("http://a"), url("https://b/x"), "a redirect"));
  assert.doesNotThrow(() => checkNextUrl("op", url("http://a"), url("http://b/x"), "a redirect"));
  assert.throws(
    () => checkNextUrl("op", url("https://a"), url("http://b/upload?signature=s3cr3t"), "a redirect"),
    (error: unknown) =>
      error instanceof ProtocolError &&
      exitCodeOf(error) === 1 &&
      error.message.includes("http://b/upload") &&
      !error.message.includes("s3cr3t"),
  );
  assert.throws(() => checkNextUrl("op", url("http://a"), url("ftp://b/x"), "a redirect"), ProtocolError);
  assert.equal(
    describeUrl(url("https://s3.example.com/bucket/blob?X-Amz-Signature=abc")),
    "https://s3.example.com/bucket/blob",
  );
});

test("redirects are followed for reads and bodiless deletes; a PUT only on 307/308 with a replayable body", () => {
  for (const status of [301, 302, 303, 307, 308]) {
    assert.ok(followsRedirect("GET", status, true));
    assert.ok(followsRedirect("HEAD", status, true));
  }
  assert.ok(!followsRedirect("GET", 304, true));
  assert.ok(!followsRedirect("POST", 307, true));
  assert.ok(!followsRedirect("PATCH", 307, false));
  assert.ok(followsRedirect("PUT", 307, true));
  assert.ok(!followsRedirect("PUT", 307, false), "a streamed body cannot be sent again");
  assert.ok(!followsRedirect("PUT", 302, true), "302 would turn it into a GET");
});

test("Basic credentials go to a token realm over https, or over http on a plain-http registry's own host", () => {
  const https = url("https://registry.example.com");
  const http = url("http://registry.lan:5000");
  assert.doesNotThrow(() => checkRealm(url("https://auth.example.com/token"), https, "r", true));
  assert.doesNotThrow(() => checkRealm(url("http://registry.lan:5001/token"), http, "r", true));
  assert.doesNotThrow(() => checkRealm(url("http://auth.example.com/token"), https, "r", false), "anonymous");
  assert.throws(() => checkRealm(url("http://auth.example.com/token"), https, "r", true), /plain HTTP/);
  assert.throws(() => checkRealm(url("http://registry.example.com/token"), https, "r", true), /plain HTTP/);
  assert.throws(() => checkRealm(url("http://other.lan/token"), http, "r", true), /another host/);
  assert.throws(() => checkRealm(url("file:///token"), https, "r", false), /not an http/);
});

test("the client connects only to a registry host it can name: never to the host a URL reads out of another string", async () => {
  let asked = 0;
  const credentials = async () => {
    asked++;
    return { username: "_json_key", password: "the-key" };
  };
  for (const host of ["127.0.0.1:1#.gcr.io", "127.0.0.1:1?.azurecr.io", "ci:pw@127.0.0.1:1"]) {
    await assert.rejects(
      RegistryClient.connect({ host, credentials, retry: { attempts: 1 } }),
      (error: unknown) =>
        exitCodeOf(error) === 2 && /is not a registry host .*: nothing was sent/.test(String(error)),
      host,
    );
  }
  assert.equal(asked, 0, "no credential was even looked up");
});
