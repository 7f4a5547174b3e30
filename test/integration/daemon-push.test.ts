/**
 * Push-only through the Docker engine (PLUGIN_PUSH_VIA=daemon), end to end: the real CLI, the real engines
 * (the containerd image store on the default socket, the classic store from scripts/classic-engine.sh) and
 * real registries on loopback (plain, and htpasswd). What the registry serves is read with skopeo.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { openArchive } from "../../lib/archive/open.js";
import { indexTar } from "../../lib/archive/tar-index.js";
import { runCli, startCli } from "../helpers/cli.js";
import { classicEngineHost } from "../helpers/engine.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { type RegistryServer, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

const exec = promisify(execFile);

interface EngineUnderTest {
  store: "containerd" | "classic";
  /** undefined: the default socket. */
  host?: string;
}

function engineEnv(engine: EngineUnderTest): NodeJS.ProcessEnv {
  return engine.host ? { DOCKER_HOST: engine.host } : {};
}

async function docker(engine: EngineUnderTest, args: string[]): Promise<string> {
  const env = { ...process.env, ...engineEnv(engine) };
  if (!engine.host) delete env.DOCKER_HOST;
  const { stdout } = await exec("docker", args, { env, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim();
}

/** The image ID a name has in the engine, or undefined. */
async function imageId(engine: EngineUnderTest, name: string): Promise<string | undefined> {
  try {
    return await docker(engine, ["image", "inspect", "--format", "{{.Id}}", name]);
  } catch {
    return undefined;
  }
}

async function removeNames(engine: EngineUnderTest, names: string[]): Promise<void> {
  for (const name of names) await docker(engine, ["rmi", name]).catch(() => {});
}

/** Tags of a repository of a registry with basic auth. */
async function tagsWithLogin(registry: RegistryServer, repository: string, user: string, password: string) {
  const response = await fetch(`${registry.url}/v2/${repository}/tags/list`, {
    headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}` },
  });
  if (response.status === 404) return [];
  assert.equal(response.status, 200, `tags list of ${repository}`);
  return ((await response.json()) as { tags?: string[] | null }).tags ?? [];
}

const unique = () => randomBytes(4).toString("hex");

interface Fixture {
  tarball: string;
  /** The names recorded in the tarball. */
  names: string[];
  digest: string;
}

async function makeTarball(dir: string, label: string, files?: Record<string, Buffer>): Promise<Fixture> {
  const name = `buildx-step-test/daemon-${label}-${unique()}`;
  const names = [`${name}:a`, `${name}:b`];
  const context = await sampleContext(join(dir, `ctx-${label}`), { files });
  const tarball = await buildTarball({ context, dest: join(dir, `${label}.tar`), tags: names });
  const archive = await openArchive(tarball);
  assert.equal(archive.images.length, 1);
  return { tarball, names, digest: archive.images[0]?.descriptor.digest ?? "" };
}

/** A tarball that `docker save` wrote on the classic engine (built there with --load, then removed from it). */
async function savedByClassicEngine(
  dir: string,
  label: string,
  files: Record<string, Buffer>,
  engines: EngineUnderTest[],
): Promise<Fixture> {
  const classic = engines.find((e) => e.store === "classic") as EngineUnderTest;
  const name = `buildx-step-test/daemon-${label}-${unique()}`;
  const names = [`${name}:a`];
  const context = await sampleContext(join(dir, `ctx-${label}`), { files });
  await docker(classic, ["buildx", "build", "--quiet", "--load", "--tag", names[0] as string, context]);
  const tarball = join(dir, `${label}.tar`);
  try {
    await docker(classic, ["save", "--output", tarball, names[0] as string]);
  } finally {
    await removeNames(classic, names);
  }
  const archive = await openArchive(tarball);
  return { tarball, names, digest: archive.images[0]?.descriptor.digest ?? "" };
}

const user = { username: "pusher", password: "s3cret-daemon-pw" };

describe("push-only through the engine", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let plain: RegistryServer;
  let guarded: RegistryServer;
  let engines: EngineUnderTest[];

  before(async () => {
    dir = await tempDir("buildx-step-daemon-");
    [plain, guarded] = await Promise.all([startRegistry(), startRegistry({ auth: user })]);
    engines = [{ store: "containerd" }, { store: "classic", host: await classicEngineHost() }];
  });
  after(async () => {
    await Promise.all([plain?.stop(), guarded?.stop()]);
    await dir?.remove();
  });

  for (const store of ["containerd", "classic"] as const) {
    test(`${store} store: a buildx docker tarball is loaded, tagged twice, pushed, and only the push tags removed afterwards`, async () => {
      const engine = engines.find((e) => e.store === store) as EngineUnderTest;
      const fixture = await makeTarball(dir.path, `load-${store}`);
      const repository = `daemon/${store}-${unique()}`;
      try {
        const result = await runCli(
          [
            "push",
            "--via",
            "daemon",
            "--repo",
            `${guarded.host}/${repository}`,
            "-t",
            "v1",
            "-t",
            "v1.0",
            "--json",
            fixture.tarball,
          ],
          {
            env: {
              ...engineEnv(engine),
              PLUGIN_REGISTRY: guarded.host,
              PLUGIN_USERNAME: user.username,
              PLUGIN_PASSWORD: user.password,
            },
          },
        );
        assert.equal(result.code, 0, result.stderr);
        assert.ok(
          !`${result.stdout}${result.stderr}`.includes(user.password),
          "the password is never printed",
        );
        const json = JSON.parse(result.stdout) as Record<string, unknown>;
        assert.deepEqual(json.tags, ["v1", "v1.0"]);
        assert.equal(json.registry, guarded.host);
        assert.deepEqual((await tagsWithLogin(guarded, repository, user.username, user.password)).sort(), [
          "v1",
          "v1.0",
        ]);
        const creds = `${user.username}:${user.password}`;
        const served = await registryManifest(`${guarded.host}/${repository}:v1`, { creds });
        const served2 = await registryManifest(`${guarded.host}/${repository}:v1.0`, { creds });
        assert.equal(served2.digest, served.digest);
        assert.equal(json.digest, served.digest, "the result's digest is the one the registry serves");
        if (store === "containerd") {
          // The containerd store pushes the blobs and manifest it loaded, as they are.
          assert.equal(served.digest, fixture.digest);
          assert.equal(json.digestPreserved, true);
          assert.doesNotMatch(result.stderr, /recompressed/);
        } else {
          assert.notEqual(served.digest, fixture.digest);
          assert.equal(json.digestPreserved, false);
          assert.ok(
            result.stderr.includes(
              `the engine recompressed the layers (classic image store): the registry serves ${served.digest}, the tarball holds ${fixture.digest}`,
            ),
            result.stderr,
          );
        }
        // The push tags are gone; the tarball's own names stay loaded, as `docker load` leaves them.
        for (const name of [`${guarded.host}/${repository}:v1`, `${guarded.host}/${repository}:v1.0`]) {
          assert.equal(
            await imageId(engine, name),
            undefined,
            `${name} was removed from the ${store} engine`,
          );
        }
        for (const name of fixture.names) {
          assert.ok(await imageId(engine, name), `${name} stays loaded in the ${store} engine`);
        }
      } finally {
        await removeNames(engine, [
          ...fixture.names,
          `${guarded.host}/${repository}:v1`,
          `${guarded.host}/${repository}:v1.0`,
        ]);
      }
    });

    test(`${store} store: PLUGIN_SOURCE_IMAGE pushes an image already in the engine and keeps it`, async () => {
      const engine = engines.find((e) => e.store === store) as EngineUnderTest;
      const fixture = await makeTarball(dir.path, `source-${store}`);
      const repository = `daemon/source-${store}-${unique()}`;
      const source = fixture.names[0] as string;
      try {
        await docker(engine, ["load", "-q", "-i", fixture.tarball]);
        const before = await imageId(engine, source);
        assert.ok(before);
        // A name that exists before the run, on another image, is moved for the push and then pointed back.
        const other = await makeTarball(dir.path, `other-${store}`);
        await docker(engine, ["load", "-q", "-i", other.tarball]);
        const otherId = await imageId(engine, other.names[0] as string);
        await docker(engine, ["tag", other.names[0] as string, `${plain.host}/${repository}:prod`]);
        await removeNames(engine, other.names);

        const result = await runCli(["push", "--json"], {
          env: {
            ...engineEnv(engine),
            PLUGIN_PUSH_VIA: "daemon",
            PLUGIN_SOURCE_IMAGE: source,
            PLUGIN_REPO: `${plain.host}/${repository}`,
            PLUGIN_TAGS: "prod,2.1",
          },
        });
        assert.equal(result.code, 0, result.stderr);
        const json = JSON.parse(result.stdout) as Record<string, unknown>;
        assert.deepEqual((await registryTags(plain.url, repository)).sort(), ["2.1", "prod"]);
        const served = await registryManifest(`${plain.host}/${repository}:prod`);
        assert.equal(json.digest, served.digest);
        assert.equal(json.digestPreserved, undefined, "no tarball, nothing to compare with");
        assert.equal(json.registry, plain.host, "without PLUGIN_REGISTRY: the repository's host");
        if (store === "containerd")
          assert.equal(served.digest, before, "the containerd store's ID is the manifest digest");
        assert.equal(await imageId(engine, source), before, "the source image is still there");
        assert.equal(
          await imageId(engine, `${plain.host}/${repository}:2.1`),
          undefined,
          "the temporary tag is gone",
        );
        assert.equal(
          await imageId(engine, `${plain.host}/${repository}:prod`),
          otherId,
          "the existing tag points back",
        );
        // Nor does the push leave a `repo@digest` reference on the user's image (the classic store adds one).
        const references = await docker(engine, [
          "image",
          "inspect",
          "--format",
          "{{json .RepoDigests}}",
          source,
        ]);
        assert.ok(!references.includes(`${plain.host}/${repository}@`), references);
      } finally {
        await removeNames(engine, [
          ...fixture.names,
          `${plain.host}/${repository}:prod`,
          `${plain.host}/${repository}:2.1`,
        ]);
      }
    });

    test(`${store} store: a wrong password fails with the registry's message and publishes no tag`, async () => {
      const engine = engines.find((e) => e.store === store) as EngineUnderTest;
      const fixture = await makeTarball(dir.path, `badpw-${store}`);
      const repository = `daemon/badpw-${store}-${unique()}`;
      try {
        const result = await runCli(
          [
            "push",
            "--via",
            "daemon",
            "--repo",
            `${guarded.host}/${repository}`,
            "-t",
            "v1",
            "-t",
            "v2",
            fixture.tarball,
          ],
          {
            env: {
              ...engineEnv(engine),
              PLUGIN_REGISTRY: guarded.host,
              PLUGIN_USERNAME: user.username,
              PLUGIN_PASSWORD: "wrong-password",
            },
          },
        );
        assert.equal(result.code, 1, result.stderr);
        // The registry's words as the engine relays them: a 401 (containerd) or "authentication required" (classic).
        assert.match(result.stderr, /pushing .*:v1 failed: .*(401 Unauthorized|authentication required)/);
        assert.match(result.stderr, /check PLUGIN_USERNAME and PLUGIN_PASSWORD/);
        assert.match(result.stderr, /no tag was published/);
        assert.ok(!result.stderr.includes("wrong-password"));
        assert.deepEqual(await tagsWithLogin(guarded, repository, user.username, user.password), []);
        for (const name of [`${guarded.host}/${repository}:v1`, `${guarded.host}/${repository}:v2`]) {
          assert.equal(await imageId(engine, name), undefined, `${name} was removed after the failure`);
        }
        // What the failed run loaded is gone too: the tarball's own names, and with them the image.
        for (const name of fixture.names) {
          assert.equal(await imageId(engine, name), undefined, `${name} was loaded, then removed again`);
        }
        assert.equal(await imageId(engine, fixture.digest), undefined, "the loaded image is not left behind");
      } finally {
        await removeNames(engine, [
          ...fixture.names,
          `${guarded.host}/${repository}:v1`,
          `${guarded.host}/${repository}:v2`,
        ]);
      }
    });
  }

  test("classic store: PLUGIN_EXPECTED_DIGEST is refused before anything is loaded or pushed", async () => {
    const engine = engines.find((e) => e.store === "classic") as EngineUnderTest;
    const fixture = await makeTarball(dir.path, "expected-classic");
    const repository = `daemon/expected-${unique()}`;
    try {
      const result = await runCli(
        ["push", "--via", "daemon", "--repo", `${plain.host}/${repository}`, fixture.tarball],
        {
          env: { ...engineEnv(engine), PLUGIN_EXPECTED_DIGEST: fixture.digest },
        },
      );
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /classic image store/);
      assert.match(result.stderr, /PLUGIN_PUSH_VIA=registry/);
      assert.deepEqual(await registryTags(plain.url, repository), []);
      assert.equal(await imageId(engine, fixture.names[0] as string), undefined, "nothing was loaded");
    } finally {
      await removeNames(engine, fixture.names);
    }
  });

  test("containerd store: PLUGIN_EXPECTED_DIGEST is kept when it matches, refused (exit 2) when it does not", async () => {
    const engine = engines.find((e) => e.store === "containerd") as EngineUnderTest;
    const fixture = await makeTarball(dir.path, "expected-containerd");
    const repository = `daemon/expected-${unique()}`;
    try {
      const wrong = `sha256:${"0".repeat(64)}`;
      const refused = await runCli(
        ["push", "--via", "daemon", "--repo", `${plain.host}/${repository}`, fixture.tarball],
        {
          env: { PLUGIN_EXPECTED_DIGEST: wrong },
        },
      );
      assert.equal(refused.code, 2, refused.stderr);
      assert.ok(refused.stderr.includes(`has digest ${fixture.digest}`), refused.stderr);
      assert.deepEqual(await registryTags(plain.url, repository), []);
      assert.equal(await imageId(engine, fixture.names[0] as string), undefined, "nothing was loaded");

      const kept = await runCli(
        ["push", "--via", "daemon", "--repo", `${plain.host}/${repository}`, "--json", fixture.tarball],
        {
          env: { PLUGIN_EXPECTED_DIGEST: fixture.digest },
        },
      );
      assert.equal(kept.code, 0, kept.stderr);
      assert.equal((JSON.parse(kept.stdout) as { digest: string }).digest, fixture.digest);
      assert.equal((await registryManifest(`${plain.host}/${repository}:latest`)).digest, fixture.digest);
    } finally {
      await removeNames(engine, [...fixture.names, `${plain.host}/${repository}:latest`]);
    }
  });

  test("an engine that is not there: exit 1 naming the socket and how to start it", async () => {
    const fixture = await makeTarball(dir.path, "down");
    const socket = join(dir.path, "no-engine.sock");
    const result = await runCli(
      ["push", "--via", "daemon", "--repo", `${plain.host}/daemon/down`, fixture.tarball],
      {
        env: { DOCKER_HOST: `unix://${socket}` },
      },
    );
    assert.equal(result.code, 1, result.stderr);
    assert.ok(
      result.stderr.includes(
        `cannot reach the Docker engine at unix://${socket} (connect ENOENT): start dockerd, or set DOCKER_HOST to the engine's address`,
      ),
      result.stderr,
    );
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });

  test("classic store: an OCI layout, which it cannot load, is refused (exit 2) before the load", async () => {
    const engine = engines.find((e) => e.store === "classic") as EngineUnderTest;
    const name = `buildx-step-test/daemon-oci-${unique()}:x`;
    const context = await sampleContext(join(dir.path, "ctx-oci"));
    const tarball = await buildTarball({
      context,
      dest: join(dir.path, "oci.tar"),
      format: "oci",
      tags: [name],
    });
    const repository = `daemon/oci-${unique()}`;
    try {
      const result = await runCli(
        ["push", "--via", "daemon", "--repo", `${plain.host}/${repository}`, tarball],
        {
          env: engineEnv(engine),
        },
      );
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /OCI layout without manifest\.json.*classic image store/);
      assert.deepEqual(await registryTags(plain.url, repository), []);
    } finally {
      await removeNames(engine, [name]);
    }
  });

  for (const store of ["containerd", "classic"] as const) {
    test(`${store} store: a tarball whose layer the engine rejects fails (exit 1) with the engine's words`, async () => {
      const engine = engines.find((e) => e.store === store) as EngineUnderTest;
      // A layer of its own (random, so incompressible and the largest blob) that the engine has never
      // seen: an engine skips the bytes of a blob (containerd) or layer (classic) it already holds. So the
      // containerd store gets a tarball made by the classic engine, and the classic store one made by buildx.
      const files = { "random.bin": randomBytes(3 * 1024 * 1024) };
      const fixture =
        store === "containerd"
          ? await savedByClassicEngine(dir.path, `corrupt-${store}`, files, engines)
          : await makeTarball(dir.path, `corrupt-${store}`, files);
      // Overwrite bytes in the middle of that layer: the tar stays readable, the layer does not.
      const index = await indexTar(fixture.tarball);
      const layer = [...index.entries.values()]
        .filter((e) => e.name.startsWith("blobs/"))
        .sort((a, b) => b.size - a.size)[0];
      assert.ok(layer && layer.size > 4096);
      const file = await open(fixture.tarball, "r+");
      await file.write(Buffer.alloc(512, 0x5a), 0, 512, layer.offset + Math.floor(layer.size / 2));
      await file.close();
      const repository = `daemon/corrupt-${unique()}`;
      try {
        const result = await runCli(
          ["push", "--via", "daemon", "--repo", `${plain.host}/${repository}`, fixture.tarball],
          {
            env: engineEnv(engine),
          },
        );
        assert.equal(result.code, 1, result.stderr);
        assert.ok(result.stderr.includes(`did not load ${fixture.tarball}: `), result.stderr);
        assert.deepEqual(await registryTags(plain.url, repository), []);
        assert.equal(await imageId(engine, fixture.names[0] as string), undefined);
      } finally {
        await removeNames(engine, fixture.names);
      }
    });
  }

  test("bad input is refused with exit 2 before the engine is asked", async () => {
    const socket = join(dir.path, "never-used.sock");
    const badRepo = await runCli(["push", "--via", "daemon", "--repo", `${plain.host}/Daemon/X`], {
      env: { DOCKER_HOST: `unix://${socket}` },
    });
    assert.equal(badRepo.code, 2, badRepo.stderr);
    assert.match(badRepo.stderr, /PLUGIN_REPO/);
    assert.doesNotMatch(badRepo.stderr, /cannot reach|engine/);
  });

  test("SIGTERM while the engine pushes: exit 143, the line says what was published, the engine's names are put back", async () => {
    const engine = engines.find((e) => e.store === "containerd") as EngineUnderTest;
    const fixture = await makeTarball(dir.path, "signal");
    const repository = `daemon/signal-${unique()}`;
    // The registry takes 10 s to write v2: the signal arrives while the engine pushes it.
    const proxy = await startFaultProxy(plain.host, [
      { method: "PUT", path: /\/manifests\/v2$/, times: 1, action: { kind: "delay", ms: 10_000 } },
    ]);
    try {
      const run = startCli(
        [
          "push",
          fixture.tarball,
          "--via",
          "daemon",
          "--repo",
          `${proxy.host}/${repository}`,
          "-t",
          "v1",
          "-t",
          "v2",
          "-t",
          "v3",
        ],
        { env: { CI: "true", ...engineEnv(engine) } },
      );
      const deadline = Date.now() + 60_000;
      while (!proxy.requests.some((r) => r.fault?.startsWith("delay")) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(
        proxy.requests.some((r) => r.fault?.startsWith("delay")),
        run.stderr(),
      );
      run.child.kill("SIGTERM");
      const started = Date.now();
      const result = await run.done;
      assert.equal(result.code, 143, result.stderr);
      assert.ok(Date.now() - started < 8_000, "the push under way was cut, not waited for");
      assert.match(result.stderr, /SIGTERM: stopping the push through the engine/);
      assert.match(
        result.stderr,
        new RegExp(
          `stopped by SIGTERM: published before it stopped: ${proxy.host}/${repository}:v1; not published: v2, v3; the names given to images in the engine are put back`,
        ),
      );
      assert.ok(!(await registryTags(plain.url, repository)).includes("v3"));
      // Nothing of the run is left in the engine: neither the push's names nor the tarball's own.
      for (const name of [
        ...["v1", "v2", "v3"].map((t) => `${proxy.host}/${repository}:${t}`),
        ...fixture.names,
      ]) {
        assert.equal(await imageId(engine, name), undefined, `${name} is still in the engine`);
      }
    } finally {
      await proxy.stop();
    }
  });

  test("no tarball and no image of that name in the engine: exit 2 naming the image and how to build it", async () => {
    const repository = `daemon/not-built-${unique()}`;
    const result = await runCli([], {
      env: { PLUGIN_PUSH_ONLY: "true", PLUGIN_REPO: `${plain.host}/${repository}`, PLUGIN_TAGS: "v1,v2" },
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `holds as ${plain.host}/${repository}:v1 or ${plain.host}/${repository}:v2, and there is none: build it first in a dry run \\(PLUGIN_DRY_RUN=true`,
      ),
    );
    assert.match(result.stderr, /nothing was pushed/);
    assert.deepEqual(await registryTags(plain.url, repository), []);
  });
});
