import assert from "node:assert/strict";
import { test } from "node:test";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import {
  proxyConfigFrom,
  proxyCredentials,
  proxyFor,
  proxyVariablesSet,
} from "../../lib/registry/proxy-env.js";

const via = (url: string, env: NodeJS.ProcessEnv) => proxyFor(new URL(url), proxyConfigFrom(env))?.display;

test("https URLs use HTTPS_PROXY, http ones HTTP_PROXY; upper case first, then lower, then HARNESS_*", () => {
  const env = {
    HTTPS_PROXY: "http://upper:3128",
    https_proxy: "http://lower:3128",
    HTTP_PROXY: "plain:8080",
  };
  assert.equal(via("https://registry.example.com/v2/", env), "http://upper:3128");
  assert.equal(via("http://registry.example.com/v2/", env), "http://plain:8080", "no scheme: http://");
  assert.equal(via("https://r.example.com", { https_proxy: "http://lower:3128" }), "http://lower:3128");
  assert.equal(
    via("https://r.example.com", { HARNESS_HTTPS_PROXY: "http://harness:3128" }),
    "http://harness:3128",
  );
  assert.equal(
    via("http://r.example.com", { HARNESS_HTTP_PROXY: "http://harness:3128" }),
    "http://harness:3128",
  );
  assert.equal(
    via("https://r.example.com", { HTTPS_PROXY: "http://a:1", HARNESS_HTTPS_PROXY: "http://b:1" }),
    "http://a:1",
  );
  assert.equal(via("https://r.example.com", { HTTP_PROXY: "http://a:1" }), undefined, "no https proxy");
  assert.equal(proxyVariablesSet({ NO_PROXY: "x" }), false);
  assert.equal(proxyVariablesSet({ HARNESS_HTTP_PROXY: "http://a:1" }), true);
});

test("loopback is never proxied (Go's rule)", () => {
  const env = { HTTPS_PROXY: "http://proxy:3128", HTTP_PROXY: "http://proxy:3128" };
  for (const url of [
    "https://localhost:5000",
    "http://127.0.0.1:5000",
    "https://127.1.2.3",
    "http://[::1]:5000",
  ]) {
    assert.equal(via(url, env), undefined, url);
  }
});

test("NO_PROXY: names with their subdomains, .suffixes, *, ports, IPs and CIDR ranges", () => {
  const env = (noProxy: string) => ({ HTTPS_PROXY: "http://proxy:3128", NO_PROXY: noProxy });
  assert.equal(via("https://example.com", env("example.com")), undefined);
  assert.equal(via("https://r.example.com", env("example.com")), undefined, "subdomains too");
  assert.equal(via("https://notexample.com", env("example.com")), "http://proxy:3128");
  assert.equal(via("https://r.example.com", env(".example.com")), undefined);
  assert.equal(
    via("https://example.com", env(".example.com")),
    "http://proxy:3128",
    "a .suffix: subdomains only",
  );
  assert.equal(via("https://r.example.com", env("*.example.com")), undefined);
  assert.equal(via("https://anything.test", env("*")), undefined);
  assert.equal(via("https://r.example.com:5000", env("r.example.com:5000")), undefined);
  assert.equal(
    via("https://r.example.com", env("r.example.com:5000")),
    "http://proxy:3128",
    "port 443 ≠ 5000",
  );
  assert.equal(via("https://10.1.2.3", env("10.0.0.0/8")), undefined);
  assert.equal(via("https://11.1.2.3", env("10.0.0.0/8")), "http://proxy:3128");
  assert.equal(via("https://[fd00::5]", env("fd00::/8")), undefined);
  assert.equal(via("https://192.168.1.9:5000", env("192.168.1.9")), undefined);
  assert.equal(via("https://R.Example.COM", env(" other.test , EXAMPLE.com ")), undefined);
  assert.equal(
    via("https://r.example.com", { HTTPS_PROXY: "http://p:1", no_proxy: "example.com" }),
    undefined,
  );
  assert.equal(
    via("https://r.example.com", { HTTPS_PROXY: "http://p:1", HARNESS_NO_PROXY: "example.com" }),
    undefined,
  );
});

test("a malformed or unsupported proxy is bad input naming the variable, never its credentials", () => {
  assert.throws(
    () => proxyConfigFrom({ HTTPS_PROXY: "http://user:pa ss@" }),
    (error: unknown) =>
      error instanceof ProtocolError &&
      exitCodeOf(error) === 2 &&
      /HTTPS_PROXY is not a proxy URL/.test(error.message) &&
      !error.message.includes("pa ss"),
  );
  assert.throws(
    () => proxyConfigFrom({ HTTPS_PROXY: "socks5://proxy:1080" }),
    /socks5 proxy; the registry client supports http/,
  );
  const config = proxyConfigFrom({ HTTPS_PROXY: "http://user:secret@proxy:3128" });
  assert.equal(config.https?.display, "http://proxy:3128");
  assert.equal(config.https?.url.password, "secret");
});

test("the credentials in proxy variables are handed to the logger to mask, raw and decoded", () => {
  assert.deepEqual(
    proxyCredentials({ HTTPS_PROXY: "http://user:p%40ss@proxy:3128", HTTP_PROXY: "http://proxy:3128" }),
    ["user:p%40ss", "p%40ss", "p@ss"],
  );
  assert.deepEqual(proxyCredentials({ HARNESS_HTTP_PROXY: "http://u:pw@proxy" }), ["u:pw", "pw"]);
  assert.deepEqual(proxyCredentials({ https_proxy: "u:pw@proxy:3128" }), ["u:pw", "pw"], "no scheme");
  // A token written as the user is the secret itself.
  assert.deepEqual(proxyCredentials({ HTTPS_PROXY: "http://t0ken@proxy:3128" }), ["t0ken"]);
  assert.deepEqual(proxyCredentials({ HTTPS_PROXY: "proxy:3128" }), []);
});
