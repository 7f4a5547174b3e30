// The pure parts around running buildx: the last error line, the progress display, metadata, the
// exporter's refusal, the temporary tarball name, and the cleanup scope.
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type CleanupScope, withCleanup } from "../../lib/buildx/cleanup.js";
import { isExporterUnsupported, saveWritesOciLayout } from "../../lib/buildx/exporter-support.js";
import { LineTail, lastErrorLine, stripAnsi } from "../../lib/buildx/last-error.js";
import { manifestDigest } from "../../lib/buildx/metadata.js";
import { progressMode } from "../../lib/buildx/progress.js";
import { prepareTarball, temporaryTarPath } from "../../lib/buildx/tar-output.js";
import { transientFailure } from "../../lib/buildx/transient-failure.js";
import { engineAddressFromEnv } from "../../lib/engine/address.js";
import { imageStoreOf, plainHttpTarget } from "../../lib/engine/info.js";
import { UsageError } from "../../lib/errors.js";
import { tempDir } from "../helpers/tmp.js";

// Recorded from buildx 0.13.1 (plain progress) for a COPY of a missing file.
const failedBuild = [
  "#5 [2/2] COPY missing /x",
  '#5 ERROR: failed to calculate checksum of ref abc::def: "/missing": not found',
  "------",
  " > [2/2] COPY missing /x:",
  "------",
  "Dockerfile:2",
  "--------------------",
  "   1 |     FROM scratch",
  "   2 | >>> COPY missing /x",
  "--------------------",
  'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref abc::def: "/missing": not found',
];

test("the last error line is buildx's final ERROR, not the step's", () => {
  assert.equal(
    lastErrorLine(failedBuild),
    'ERROR: failed to solve: failed to compute cache key: failed to calculate checksum of ref abc::def: "/missing": not found',
  );
});

test("advice after the error does not hide it (the classic store's answer)", () => {
  const lines = [
    "ERROR: Docker exporter is not supported for the docker driver.",
    "Switch to a different driver, or turn on the containerd image store, and try again.",
    "Learn more at https://docs.docker.com/go/build-exporters/",
  ];
  assert.equal(lastErrorLine(lines), "ERROR: Docker exporter is not supported for the docker driver.");
  assert.equal(isExporterUnsupported(lines), true);
  assert.equal(isExporterUnsupported(failedBuild), false);
});

test("without an error line: the last non-empty line; tty escapes removed", () => {
  assert.equal(lastErrorLine(["a", "last words", "", "  "]), "last words");
  assert.equal(lastErrorLine([]), undefined);
  assert.equal(stripAnsi("\u001b[31mERROR: x\u001b[0m"), "ERROR: x");
  assert.equal(lastErrorLine(["\u001b[2K\u001b[1AERROR: boom\r"]), "ERROR: boom");
});

test("the line tail keeps the last lines of a stream cut anywhere", () => {
  const tail = new LineTail(3);
  for (const chunk of ["one\ntw", "o\nthree\nfo", "ur\nfi", "ve"]) tail.push(chunk);
  // Three whole lines, and the unfinished one.
  assert.deepEqual(tail.snapshot(), ["two", "three", "four", "five"]);
});

test("progress: plain in CI or without a terminal, auto on a terminal", () => {
  assert.equal(progressMode({}, false), "plain");
  assert.equal(progressMode({}, true), "auto");
  assert.equal(progressMode({ CI: "true" }, true), "plain");
  assert.equal(progressMode({ CI: "false" }, true), "auto");
});

const digest = `sha256:${"b".repeat(64)}`;

test("the metadata's digest counts only when it names the exported manifest or index", () => {
  assert.equal(
    manifestDigest({ "containerimage.digest": digest, "containerimage.descriptor": { digest, size: 1 } }),
    digest,
  );
  // The classic store's --load: the image ID, no descriptor; no registry serves it.
  assert.equal(
    manifestDigest({ "containerimage.digest": digest, "containerimage.config.digest": digest }),
    undefined,
  );
  // The classic store's push: no descriptor, the pushed manifest's digest (not the config's).
  const config = `sha256:${"c".repeat(64)}`;
  assert.equal(
    manifestDigest({ "containerimage.digest": digest, "containerimage.config.digest": config }),
    digest,
  );
  assert.equal(manifestDigest({}), undefined);
  assert.equal(manifestDigest({ "containerimage.descriptor": { digest: "sha256:short" } }), undefined);
});

test("the build's own descriptor wins over the engine's name, which another build may have moved", () => {
  const other = `sha256:${"e".repeat(64)}`;
  assert.equal(
    manifestDigest({
      "containerimage.digest": other,
      "containerimage.descriptor": {
        mediaType: "application/vnd.oci.image.index.v1+json",
        digest,
        size: 855,
      },
    }),
    digest,
  );
});

test("the classic store's docker save writes an OCI layout from engine 25 on", () => {
  assert.equal(saveWritesOciLayout("26.1.5+dfsg1"), true);
  assert.equal(saveWritesOciLayout("24.0.7"), false);
  assert.equal(saveWritesOciLayout("unknown"), false);
});

test("the tarball is written beside its destination and replaces it only on commit", async () => {
  assert.equal(temporaryTarPath("/out/img.tar", "r"), "/out/.img.tar.r.partial");
  const dir = await tempDir();
  try {
    const dest = join(dir.path, "deep", "er", "img.tar");
    const pending = await prepareTarball(dest, "/");
    assert.equal((await stat(join(dir.path, "deep", "er"))).isDirectory(), true, "parent folder created");
    await writeFile(dest, "old");
    await writeFile(pending.temp, "new");
    await pending.discard();
    assert.equal(await readFile(dest, "utf8"), "old", "a failed build leaves the old tarball");
    const second = await prepareTarball("deep/er/img.tar", dir.path);
    await writeFile(second.temp, "new");
    await second.commit();
    await second.discard();
    assert.equal(await readFile(dest, "utf8"), "new");
    await mkdir(join(dir.path, "folder.tar"));
    await assert.rejects(prepareTarball(join(dir.path, "folder.tar"), "/"), UsageError);
  } finally {
    await dir.remove();
  }
});

test("cleanup runs last-in first-out, after failure too, and reports its own errors", async () => {
  const order: string[] = [];
  const errors: unknown[] = [];
  await assert.rejects(
    withCleanup(
      async (scope: CleanupScope) => {
        scope.add(() => {
          order.push("config");
        });
        scope.add(() => {
          throw new Error("rm failed");
        });
        scope.add(async () => {
          order.push("builder");
        });
        throw new Error("build failed");
      },
      { handleSignals: false, onCleanupError: (error) => errors.push(error) },
    ),
    /build failed/,
  );
  assert.deepEqual(order, ["builder", "config"]);
  assert.equal(errors.length, 1);
});

test("a signal stops the running command, cleans up, and exits 128 + n", async () => {
  const order: string[] = [];
  let exitCode: number | undefined;
  await withCleanup(
    async (scope) => {
      scope.add(() => {
        order.push("cleaned");
      });
      const stopped = new Promise<void>((resolve) => scope.signal.addEventListener("abort", () => resolve()));
      process.emit("SIGTERM", "SIGTERM");
      await stopped;
      order.push("aborted");
    },
    {
      exit: (code) => {
        exitCode = code;
      },
    },
  );
  assert.deepEqual(order, ["aborted", "cleaned"]);
  assert.equal(exitCode, 143);
});

test("the image store from /info's DriverStatus, as the two engines here report it", () => {
  assert.equal(
    imageStoreOf({ DriverStatus: [["driver-type", "io.containerd.snapshotter.v1"]] }),
    "containerd",
  );
  assert.equal(
    imageStoreOf({
      DriverStatus: [
        ["Backing Filesystem", "extfs"],
        ["Supports d_type", "true"],
      ],
    }),
    "classic",
  );
  assert.equal(imageStoreOf({}), "classic");
});

test("/info is written by hand to a socket or plain TCP; TLS and ssh go through dockerode", () => {
  // One reading of DOCKER_HOST (lib/engine/address.ts) for both ways.
  const plainEngineTarget = (env: NodeJS.ProcessEnv) => {
    const address = engineAddressFromEnv(env);
    const target = plainHttpTarget(address);
    return target && { ...target, display: address.display };
  };
  assert.deepEqual(plainEngineTarget({}), {
    socketPath: "/var/run/docker.sock",
    display: "unix:///var/run/docker.sock",
  });
  assert.deepEqual(plainEngineTarget({ DOCKER_HOST: "unix:///run/x.sock" }), {
    socketPath: "/run/x.sock",
    display: "unix:///run/x.sock",
  });
  assert.deepEqual(plainEngineTarget({ DOCKER_HOST: "tcp://10.0.0.5:2375" }), {
    host: "10.0.0.5",
    port: 2375,
    display: "tcp://10.0.0.5:2375",
  });
  assert.equal(plainEngineTarget({ DOCKER_HOST: "tcp://10.0.0.5:2376", DOCKER_TLS_VERIFY: "1" }), undefined);
  assert.equal(plainEngineTarget({ DOCKER_HOST: "ssh://me@host" }), undefined);
  // The CLI's bare `host:port` is plain tcp (it went to dockerode before the one reading of DOCKER_HOST).
  assert.deepEqual(plainEngineTarget({ DOCKER_HOST: "host:2375" }), {
    host: "host",
    port: 2375,
    display: "tcp://host:2375",
  });
});

test("failures another run gets past: a naming race, a registry's 5xx to the engine's push", () => {
  // buildx 0.13.1 with the docker driver, three builds to one repo:tag at once (the end of its output).
  const raced = [
    "#7 naming to 127.0.0.1:42409/same/bxs-ebe5b466:v1 done",
    '#7 ERROR: image "127.0.0.1:42409/same/bxs-ebe5b466:v1": already exists',
    "------",
    " > exporting to image:",
    "------",
    'ERROR: failed to solve: image "127.0.0.1:42409/same/bxs-ebe5b466:v1": already exists',
  ];
  assert.equal(transientFailure(raced), "naming");
  // The same, another time: distribution 2.8 answered the engine's HEAD with 500 (a link being rewritten).
  const pushed = [
    "#7 ERROR: unexpected status from HEAD request to http://127.0.0.1:5000/v2/load-exp/rd4/manifests/v1: 500 Internal Server Error",
    "ERROR: unexpected status from HEAD request to http://127.0.0.1:5000/v2/load-exp/rd4/manifests/v1: 500 Internal Server Error",
  ];
  assert.equal(transientFailure(pushed), "registry");
  assert.equal(
    transientFailure(["ERROR: failed to push x: unexpected status: 503 Service Unavailable"]),
    "registry",
  );
  for (const lasting of [
    ["ERROR: failed to solve: failed to read dockerfile: no such file"],
    ['ERROR: failed to solve: blob "sha256:ab": already exists'],
    ["ERROR: unexpected status from PUT request to http://r/v2/x/manifests/v1: 400 Bad Request"],
    ["ERROR: unexpected status from HEAD request to http://r/v2/x/manifests/v1: 401 Unauthorized"],
    [],
  ]) {
    assert.equal(transientFailure(lasting), undefined, lasting.join(" "));
  }
});
