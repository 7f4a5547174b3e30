import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { engineAddressFromEnv } from "../../lib/engine/address.js";
import { engineUnreachable, isConnectionError } from "../../lib/engine/failure.js";
import { modemOptions } from "../../lib/engine/modem-options.js";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { tempDir } from "../helpers/tmp.js";

test("no DOCKER_HOST is the CLI's default socket, not dockerode's ~/.docker/run", () => {
  const address = engineAddressFromEnv({ HOME: "/home/x" });
  assert.equal(address.display, "unix:///var/run/docker.sock");
  assert.equal(address.kind, "unix");
  assert.equal(address.socketPath, "/var/run/docker.sock");
  assert.equal(engineAddressFromEnv({ DOCKER_HOST: "" }).socketPath, "/var/run/docker.sock");
});

test("unix://, tcp:// and a bare host:port are read as the docker CLI reads them", () => {
  assert.equal(engineAddressFromEnv({ DOCKER_HOST: "unix:///run/other.sock" }).socketPath, "/run/other.sock");
  const tcp = engineAddressFromEnv({ DOCKER_HOST: "tcp://10.1.2.3:2375" });
  assert.deepEqual(
    [tcp.kind, tcp.host, tcp.port, tcp.tls, tcp.display],
    ["tcp", "10.1.2.3", 2375, false, "tcp://10.1.2.3:2375"],
  );
  const bare = engineAddressFromEnv({ DOCKER_HOST: "dockerhost:4243" });
  assert.deepEqual([bare.kind, bare.host, bare.port], ["tcp", "dockerhost", 4243]);
  // Default ports: 2375 plain, 2376 with TLS.
  assert.equal(engineAddressFromEnv({ DOCKER_HOST: "tcp://h" }).port, 2375);
  const tls = engineAddressFromEnv({
    DOCKER_HOST: "tcp://h",
    DOCKER_TLS_VERIFY: "1",
    DOCKER_CERT_PATH: "/c",
  });
  assert.deepEqual([tls.port, tls.tls, tls.verify, tls.certPath], [2376, true, true, "/c"]);
  // Any non-empty DOCKER_TLS_VERIFY turns verification on (dockerode only honours "1").
  assert.equal(engineAddressFromEnv({ DOCKER_HOST: "tcp://h:1", DOCKER_TLS_VERIFY: "true" }).verify, true);
  const tlsOnly = engineAddressFromEnv({ DOCKER_HOST: "tcp://h:1", DOCKER_TLS: "1", HOME: "/home/u" });
  assert.deepEqual([tlsOnly.tls, tlsOnly.verify, tlsOnly.certPath], [true, false, "/home/u/.docker"]);
  const ssh = engineAddressFromEnv({ DOCKER_HOST: "ssh://ci@builder" });
  assert.deepEqual([ssh.kind, ssh.host, ssh.username, ssh.port], ["ssh", "builder", "ci", 22]);
});

test("an address that cannot name an engine is a usage error naming DOCKER_HOST", () => {
  for (const value of ["npipe:////./pipe/docker_engine", "ftp://x:1", "tcp://"]) {
    assert.throws(
      () => engineAddressFromEnv({ DOCKER_HOST: value }),
      (error: unknown) =>
        error instanceof ProtocolError && exitCodeOf(error) === 2 && error.message.includes("DOCKER_HOST"),
      value,
    );
  }
});

test("modem options set every connection key, so dockerode's own reading of the environment is overridden", async () => {
  const unix = modemOptions(engineAddressFromEnv({ DOCKER_HOST: "unix:///s.sock" }), {});
  assert.equal(unix.socketPath, "/s.sock");
  assert.ok("host" in unix && unix.host === undefined);
  const plain = modemOptions(engineAddressFromEnv({ DOCKER_HOST: "tcp://h:2375" }), {});
  assert.deepEqual(
    [plain.host, plain.port, plain.protocol, plain.socketPath],
    ["h", 2375, "http", undefined],
  );

  const dir = await tempDir();
  const certs = join(dir.path, "certs");
  await mkdir(certs);
  const env = { DOCKER_HOST: "tcp://h:2376", DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: certs };
  assert.throws(
    () => modemOptions(engineAddressFromEnv(env), env),
    (error: unknown) =>
      error instanceof ProtocolError &&
      exitCodeOf(error) === 2 &&
      error.message.includes(join(certs, "ca.pem")) &&
      error.message.includes("DOCKER_CERT_PATH"),
  );
  await writeFile(join(certs, "ca.pem"), "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
  const tls = modemOptions(engineAddressFromEnv(env), env);
  assert.equal(tls.protocol, "https");
  assert.equal(tls.agent?.options.rejectUnauthorized, true);
  const noVerify = { DOCKER_HOST: "tcp://h:2376", DOCKER_TLS: "1", DOCKER_CERT_PATH: join(dir.path, "none") };
  // Without verification no file is required.
  assert.equal(
    modemOptions(engineAddressFromEnv(noVerify), noVerify).agent?.options.rejectUnauthorized,
    false,
  );
  await dir.remove();
});

test("an engine that does not answer is named with its address, the socket error and what to do", () => {
  const address = engineAddressFromEnv({});
  const enoent = Object.assign(new Error("connect ENOENT /var/run/docker.sock"), { code: "ENOENT" });
  assert.ok(isConnectionError(enoent));
  assert.equal(
    engineUnreachable(address, enoent).message,
    "cannot reach the Docker engine at unix:///var/run/docker.sock (connect ENOENT): start dockerd, or set DOCKER_HOST to the engine's address",
  );
  const eacces = Object.assign(new Error("x"), { code: "EACCES" });
  assert.match(engineUnreachable(address, eacces).message, /docker group/);
  const http = Object.assign(new Error("(HTTP code 500) server error"), { statusCode: 500 });
  assert.equal(isConnectionError(http), false);
});
