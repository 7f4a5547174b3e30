/**
 * saveImages (lib/daemon/save.ts), which the build uses on the classic image store: every name in one
 * tarball, streamed to a temporary file and renamed into place; a failure leaves nothing behind.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { openArchive } from "../../lib/archive/open.js";
import { saveImages } from "../../lib/daemon/save.js";
import { connectEngine } from "../../lib/engine/engine.js";
import { exitCodeOf } from "../../lib/errors.js";
import { ProtocolError } from "../../lib/protocol-error.js";
import { classicEngineHost } from "../helpers/engine.js";
import { buildTarball, sampleContext } from "../helpers/images.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

describe("saveImages", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  const hosts: Record<string, string> = {};

  before(async () => {
    dir = await tempDir("buildx-step-daemon-save-");
    hosts.containerd = "unix:///var/run/docker.sock";
    hosts.classic = await classicEngineHost();
  });
  after(async () => {
    await dir?.remove();
  });

  for (const store of ["containerd", "classic"] as const) {
    test(`${store} store: all tags of an image in one tarball, renamed into place`, async () => {
      const host = hosts[store] as string;
      const env = { ...process.env, DOCKER_HOST: host };
      const name = `buildx-step-test/daemon-save-${store}-${randomBytes(4).toString("hex")}`;
      const names = [`${name}:one`, `${name}:two`];
      const context = await sampleContext(join(dir.path, `ctx-${store}`));
      const source = await buildTarball({ context, dest: join(dir.path, `src-${store}.tar`), tags: names });
      await exec("docker", ["load", "-q", "-i", source], { env });
      const out = join(dir.path, store, "image.tar");
      try {
        await saveImages(connectEngine({ DOCKER_HOST: host }), names, out);
        const archive = await openArchive(out);
        assert.equal(archive.images.length, 1, "two names of one image are one image");
        const saved = archive.images[0];
        assert.ok(saved);
        for (const n of names) {
          assert.ok(
            saved.names.some((s) => s === n || s === `docker.io/${n}`),
            `${n} is recorded in the tarball (${saved.names.join(", ")})`,
          );
        }
        if (store === "containerd") {
          // The containerd store saves the manifest it loaded: the same digest as the buildx tarball.
          assert.equal(saved.descriptor.digest, (await openArchive(source)).images[0]?.descriptor.digest);
        }
        assert.deepEqual(await readdir(join(dir.path, store)), ["image.tar"], "no temporary file is left");
      } finally {
        for (const n of names) await exec("docker", ["rmi", n], { env }).catch(() => {});
      }
    });
  }

  test("a name the engine does not have: the engine's message, and the destination untouched", async () => {
    const out = join(dir.path, "kept", "image.tar");
    await mkdir(join(dir.path, "kept"), { recursive: true });
    await writeFile(out, "previous content");
    await assert.rejects(saveImages(connectEngine({}), [], out), /no image name given/);
    await assert.rejects(
      saveImages(connectEngine({}), ["buildx-step-test/no-such-image:nope"], out),
      (error: unknown) =>
        error instanceof ProtocolError &&
        exitCodeOf(error) === 1 &&
        /no-such-image/.test(error.message) &&
        /unix:\/\/\/var\/run\/docker\.sock/.test(error.message),
    );
    assert.equal(await readFile(out, "utf8"), "previous content");
    assert.deepEqual(await readdir(join(dir.path, "kept")), ["image.tar"]);
  });

  test("an engine that is not there: the address and how to start it", async () => {
    const socket = join(dir.path, "absent.sock");
    await assert.rejects(
      saveImages(connectEngine({ DOCKER_HOST: `unix://${socket}` }), ["x:1"], join(dir.path, "never.tar")),
      (error: unknown) =>
        error instanceof ProtocolError &&
        exitCodeOf(error) === 1 &&
        error.message.startsWith(`cannot reach the Docker engine at unix://${socket} (connect ENOENT)`),
    );
  });
});
