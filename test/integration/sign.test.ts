// Signing and attesting what was pushed (issue 15), checked by the real cosign: keys made by `cosign
// generate-key-pair`, signatures and attestations checked by `cosign verify --key cosign.pub` and
// `cosign verify-attestation --key cosign.pub --type vuln`, offline, against loopback registries. Every
// push path: push-only through the registry API, push through the engine, build and push with buildx.
import assert from "node:assert/strict";
import { createPublicKey, generateKeyPairSync } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import {
  type CosignKeyPair,
  cosignVerify,
  cosignVerifyAttestation,
  generateKeyPair,
  runCosign,
  verifiedStatements,
} from "../helpers/cosign.js";
import { classicEngineHost } from "../helpers/engine.js";
import { startFaultProxy } from "../helpers/fault-proxy.js";
import { buildTarball, registryManifest, registryTags, sampleContext } from "../helpers/images.js";
import { startReferrersFront } from "../helpers/referrers-front.js";
import { type RegistryServer, sharedRegistry, startRegistry } from "../helpers/registry.js";
import { tempDir } from "../helpers/tmp.js";

let work: Awaited<ReturnType<typeof tempDir>>;
let keys: CosignKeyPair;
/** A scanner's plain JSON report, as `trivy image --format json` writes one. */
const report = {
  SchemaVersion: 2,
  CreatedAt: "2025-05-06T07:08:09.123Z",
  ArtifactName: "image.tar",
  ArtifactType: "container_image",
  Results: [{ Target: "image.tar (debian 12)", Vulnerabilities: [] }],
};
let reportFile: string;

before(async () => {
  work = await tempDir("buildx-step-sign-");
  keys = await generateKeyPair(work.path, "k3y-passw0rd-for-cosign");
  reportFile = join(work.path, "report.json");
  await writeFile(reportFile, JSON.stringify(report));
});
after(async () => {
  await work?.remove();
});

interface Pushed {
  code: number;
  stderr: string;
  json: {
    digest: string;
    signatureRef?: string;
    signatureDigest?: string;
    attestationRef?: string;
    attestationDigest?: string;
  };
}

async function inspectDigest(tarball: string): Promise<string> {
  const inspected = await runCli(["inspect", tarball, "--json"]);
  assert.equal(inspected.code, 0, inspected.stderr);
  return (JSON.parse(inspected.stdout) as { images: { digest: string }[] }).images[0]?.digest ?? "";
}

async function pushSigned(env: NodeJS.ProcessEnv): Promise<Pushed> {
  const run = await runCli(["--json"], { env: { PLUGIN_PUSH_ONLY: "true", CI: "true", ...env } });
  return { code: run.code, stderr: run.stderr, json: run.code === 0 ? JSON.parse(run.stdout) : {} };
}

/** The layers of the cosign image under `tag` of `repository`. */
async function layersUnder(host: string, repository: string, tag: string): Promise<{ mediaType: string }[]> {
  return (await registryManifest(`${host}/${repository}:${tag}`)).json.layers;
}

const sigTag = (digest: string) => `${digest.replace(":", "-")}.sig`;
const attTag = (digest: string) => `${digest.replace(":", "-")}.att`;

describe("push-only through the registry API", () => {
  let registry: RegistryServer;
  let single: string;
  let singleDigest: string;
  before(async () => {
    registry = await startRegistry();
    single = await buildTarball({
      context: await sampleContext(join(work.path, "single")),
      dest: join(work.path, "single.tar"),
    });
    singleDigest = await inspectDigest(single);
  });
  after(async () => {
    await registry?.stop();
  });

  test("a single-platform image: signed and attested, cosign verifies both; a re-push under a second tag adds no duplicate", async () => {
    const repository = "sign/single";
    const outputFile = join(work.path, "single-out", "drone.env");
    const first = await pushSigned({
      PLUGIN_SOURCE_TAR_PATH: single,
      PLUGIN_REPO: `${registry.host}/${repository}`,
      PLUGIN_TAGS: "v1",
      PLUGIN_EXPECTED_DIGEST: singleDigest,
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
      PLUGIN_ATTEST_PREDICATE: reportFile,
      PLUGIN_ATTEST_TYPE: "vuln",
      DRONE_OUTPUT: outputFile,
    });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.json.digest, singleDigest);
    assert.equal(first.json.signatureRef, `${registry.host}/${repository}:${sigTag(singleDigest)}`);
    assert.equal(first.json.attestationRef, `${registry.host}/${repository}:${attTag(singleDigest)}`);
    assert.match(first.stderr, /signed .* signature added \(1 under the tag\)/);
    assert.ok(!first.stderr.includes(keys.password), "the password is in the log");
    const outputs = await readFile(outputFile, "utf8");
    assert.match(outputs, new RegExp(`^signature_digest=${first.json.signatureDigest}$`, "m"));
    assert.match(outputs, new RegExp(`^attestation_digest=${first.json.attestationDigest}$`, "m"));

    // The deploy gate: by tag (cosign resolves it) and by digest.
    const verified = await cosignVerify(`${registry.host}/${repository}:v1`, keys.pub, { cwd: work.path });
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`"docker-manifest-digest":"${singleDigest}"`));
    const attested = await cosignVerifyAttestation(
      `${registry.host}/${repository}@${singleDigest}`,
      keys.pub,
      "vuln",
      {
        cwd: work.path,
      },
    );
    assert.equal(attested.code, 0, attested.stderr);
    const [statement] = verifiedStatements(attested.stdout);
    assert.equal(statement?.predicateType, "https://cosign.sigstore.dev/attestation/vuln/v1");
    // The report that was scanned is in the attestation (cosign attest would have dropped it).
    assert.deepEqual((statement?.predicate as { scanner?: { result: unknown } })?.scanner?.result, report);

    // The same image under a second tag: one signature and one attestation for the digest, not two.
    const again = await pushSigned({
      PLUGIN_SOURCE_TAR_PATH: single,
      PLUGIN_REPO: `${registry.host}/${repository}`,
      PLUGIN_TAGS: "v2",
      PLUGIN_SIGN_KEY: keys.key,
      PLUGIN_SIGN_PASSWORD: keys.password,
      PLUGIN_ATTEST_PREDICATE: reportFile,
      PLUGIN_ATTEST_TYPE: "vuln",
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.json.signatureDigest, first.json.signatureDigest);
    assert.equal(again.json.attestationDigest, first.json.attestationDigest);
    assert.match(again.stderr, /signature already there \(1 under the tag\), nothing written/);
    assert.equal((await layersUnder(registry.host, repository, sigTag(singleDigest))).length, 1);
    assert.equal((await layersUnder(registry.host, repository, attTag(singleDigest))).length, 1);
    const second = await cosignVerify(`${registry.host}/${repository}:v2`, keys.pub, { cwd: work.path });
    assert.equal(second.code, 0, second.stderr);
  });

  test("a multi-platform index: the index digest is signed, and cosign verifies the tag", async () => {
    const tarball = await buildTarball({
      context: await sampleContext(join(work.path, "multi")),
      dest: join(work.path, "multi.tar"),
      format: "oci",
      platforms: ["linux/amd64", "linux/arm64"],
    });
    const indexDigest = await inspectDigest(tarball);
    const repository = "sign/multi";
    const pushed = await pushSigned({
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${registry.host}/${repository}`,
      PLUGIN_TAGS: "v1",
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
    });
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.equal(pushed.json.digest, indexDigest);
    const index = await registryManifest(`${registry.host}/${repository}:v1`);
    assert.equal(index.digest, indexDigest);
    assert.match(index.json.mediaType, /index/);
    // One .sig tag: the index's, not each platform's.
    assert.deepEqual(
      (await registryTags(registry.url, repository)).filter((tag) => tag.endsWith(".sig")),
      [sigTag(indexDigest)],
    );
    const verified = await cosignVerify(`${registry.host}/${repository}:v1`, keys.pub, { cwd: work.path });
    assert.equal(verified.code, 0, verified.stderr);
    assert.match(verified.stdout, new RegExp(`"docker-manifest-digest":"${indexDigest}"`));
  });

  test("tampered: a signature made for one digest, copied onto another's .sig tag, is refused by cosign", async () => {
    const repository = "sign/tamper";
    const other = await buildTarball({
      context: await sampleContext(join(work.path, "other")),
      dest: join(work.path, "other.tar"),
    });
    const otherDigest = await inspectDigest(other);
    const signed = await pushSigned({
      PLUGIN_SOURCE_TAR_PATH: single,
      PLUGIN_REPO: `${registry.host}/${repository}`,
      PLUGIN_TAGS: "signed",
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
    });
    assert.equal(signed.code, 0, signed.stderr);
    const unsigned = await runCli([
      "push",
      other,
      "--repo",
      `${registry.host}/${repository}`,
      "--tag",
      "unsigned",
    ]);
    assert.equal(unsigned.code, 0, unsigned.stderr);

    // Copy digest A's signature image, as it is, to digest B's .sig tag (its blobs are in the repository).
    const sigOfA = await registryManifest(`${registry.host}/${repository}:${sigTag(singleDigest)}`);
    const put = await fetch(`${registry.url}/v2/${repository}/manifests/${sigTag(otherDigest)}`, {
      method: "PUT",
      headers: { "content-type": sigOfA.json.mediaType },
      body: sigOfA.raw,
    });
    assert.equal(put.status, 201);

    const forged = await cosignVerify(`${registry.host}/${repository}:unsigned`, keys.pub, {
      cwd: work.path,
    });
    assert.notEqual(forged.code, 0, "cosign accepted a signature made for another digest");
    // The signature itself is the key's; what fails is the digest it vouches for.
    assert.match(forged.stderr, /invalid or missing digest in claim/);
    const genuine = await cosignVerify(`${registry.host}/${repository}:signed`, keys.pub, { cwd: work.path });
    assert.equal(genuine.code, 0, genuine.stderr);
    // Another key's public key does not verify it either.
    const stranger = await generateKeyPair(await tempDirIn(work.path, "stranger"), "other-pw");
    const wrongKey = await cosignVerify(`${registry.host}/${repository}:signed`, stranger.pub, {
      cwd: work.path,
    });
    assert.notEqual(wrongKey.code, 0);
  });

  test("bad input is refused with exit 2 before anything is pushed", async () => {
    const rsa = join(work.path, "rsa.key");
    await writeFile(
      rsa,
      generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
    );
    const notJson = join(work.path, "report.html");
    await writeFile(notJson, "<html>scan</html>");
    const cases: [string, NodeJS.ProcessEnv, RegExp][] = [
      [
        "wrong password",
        { PLUGIN_SIGN_KEY: keys.key, COSIGN_PASSWORD: "not-it" },
        /the password does not decrypt it; check COSIGN_PASSWORD/,
      ],
      [
        "no password",
        { PLUGIN_SIGN_KEY: keys.key },
        /no password is given; set PLUGIN_SIGN_PASSWORD \(or COSIGN_PASSWORD\)/,
      ],
      [
        "a missing key",
        { PLUGIN_SIGN_KEY: join(work.path, "nope.key") },
        /PLUGIN_SIGN_KEY: .*nope\.key does not exist/,
      ],
      [
        "an RSA key",
        { PLUGIN_SIGN_KEY: rsa },
        /it is an RSA key of 2048 bits; this tool signs with ECDSA P-256/,
      ],
      [
        "a report that is not JSON",
        {
          PLUGIN_SIGN_KEY: keys.key,
          COSIGN_PASSWORD: keys.password,
          PLUGIN_ATTEST_PREDICATE: notJson,
          PLUGIN_ATTEST_TYPE: "vuln",
        },
        /PLUGIN_ATTEST_PREDICATE: .*report\.html cannot be attested as PLUGIN_ATTEST_TYPE=vuln: it is not JSON/,
      ],
    ];
    for (const [what, env, message] of cases) {
      const repository = `sign/refused-${what.replace(/\W+/g, "-").toLowerCase()}`;
      const run = await pushSigned({
        PLUGIN_SOURCE_TAR_PATH: single,
        PLUGIN_REPO: `${registry.host}/${repository}`,
        ...env,
      });
      assert.equal(run.code, 2, `${what}: ${run.stderr}`);
      assert.match(run.stderr, message, what);
      assert.deepEqual(await registryTags(registry.url, repository), [], `${what}: something was pushed`);
    }
  });

  test("a signature that cannot be stored after the push: exit 1, saying the image is published unsigned, with its digest", async () => {
    const repository = "sign/unstorable";
    // The .sig tag of the digest already holds something that is not a signature image (an index).
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.index.v1+json",
        manifests: [],
      }),
    );
    const put = await fetch(`${registry.url}/v2/${repository}/manifests/${sigTag(singleDigest)}`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.index.v1+json" },
      body: index,
    });
    assert.equal(put.status, 201);
    const run = await pushSigned({
      PLUGIN_SOURCE_TAR_PATH: single,
      PLUGIN_REPO: `${registry.host}/${repository}`,
      PLUGIN_TAGS: "v1",
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
    });
    assert.equal(run.code, 1, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `${registry.host}/${repository}@${singleDigest} is published unsigned: storing its signature .* failed: .*not a cosign signature image`,
      ),
    );
    assert.equal((await registryManifest(`${registry.host}/${repository}:v1`)).digest, singleDigest);
  });
});

/** A new folder inside `parent` (cosign writes its key pair into the working folder). */
async function tempDirIn(parent: string, name: string): Promise<string> {
  const { mkdir } = await import("node:fs/promises");
  const dir = join(parent, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

test("a registry with a login: the signature is written with the run's credentials; a PEM key given as content", async () => {
  const login = { username: "signer", password: "registry-pw-9f2c" };
  const registry = await startRegistry({ auth: login });
  try {
    const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const pub = join(work.path, "content-key.pub");
    await writeFile(pub, createPublicKey(privateKey).export({ type: "spki", format: "pem" }));
    const tarball = join(work.path, "single.tar");
    const run = await pushSigned({
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${registry.host}/sign/login`,
      PLUGIN_REGISTRY: registry.host,
      PLUGIN_USERNAME: login.username,
      PLUGIN_PASSWORD: login.password,
      PLUGIN_SIGN_KEY: pem,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /signing the pushed digest with the key in PLUGIN_SIGN_KEY/);
    for (const line of pem.split("\n").filter((l) => l && !l.startsWith("-----"))) {
      assert.ok(!run.stderr.includes(line), "a line of the key is in the log");
    }
    const dockerConfig = await tempDirIn(work.path, "login-config");
    const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
    await writeFile(
      join(dockerConfig, "config.json"),
      JSON.stringify({ auths: { [registry.host]: { auth } } }),
    );
    const verified = await cosignVerify(`${registry.host}/sign/login:latest`, pub, {
      dockerConfig,
      cwd: work.path,
    });
    assert.equal(verified.code, 0, verified.stderr);
  } finally {
    await registry.stop();
  }
});

test("a registry with the OCI 1.1 referrers API also gets the signature as a referrer, which cosign --experimental-oci11 verifies alone", async () => {
  const registry = await startRegistry();
  const front = await startReferrersFront(registry.host);
  try {
    const tarball = join(work.path, "single.tar");
    const digest = await inspectDigest(tarball);
    const env = {
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${front.host}/sign/referrers`,
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
    };
    const first = await pushSigned(env);
    assert.equal(first.code, 0, first.stderr);
    const referrers = front.referrers.get(`sign/referrers@${digest}`) ?? [];
    assert.equal(referrers.length, 1);
    assert.equal(referrers[0]?.artifactType, "application/vnd.dev.cosign.artifact.sig.v1+json");
    assert.equal(
      (first.json as { signatureReferrerDigest?: string }).signatureReferrerDigest,
      referrers[0]?.digest,
    );
    assert.match(first.stderr, /signature referrer \(OCI 1\.1\)/);
    // A second push of the same digest: the same referrer, not another one.
    const again = await pushSigned({ ...env, PLUGIN_TAGS: "v2" });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /signature referrer \(OCI 1\.1\) .*, already there/);
    assert.equal(front.referrers.get(`sign/referrers@${digest}`)?.length, 1);

    // Without the .sig tag, only the referrer is left: cosign finds it through the referrers API.
    const sig = await registryManifest(`${front.host}/sign/referrers:${sigTag(digest)}`);
    const deleted = await fetch(`${registry.url}/v2/sign/referrers/manifests/${sig.digest}`, {
      method: "DELETE",
    });
    assert.equal(deleted.status, 202);
    const byTag = await cosignVerify(`${front.host}/sign/referrers:latest`, keys.pub, { cwd: work.path });
    assert.notEqual(
      byTag.code,
      0,
      "cosign found a signature without the .sig tag and without --experimental-oci11",
    );
    const byReferrer = await runCosign(
      [
        "verify",
        "--experimental-oci11",
        "--key",
        keys.pub,
        "--insecure-ignore-tlog",
        "--allow-http-registry",
        "--allow-insecure-registry",
        `${front.host}/sign/referrers:latest`,
      ],
      { cwd: work.path },
    );
    assert.equal(byReferrer.code, 0, byReferrer.stderr);
    assert.match(byReferrer.stdout, new RegExp(`"docker-manifest-digest":"${digest}"`));
  } finally {
    await front.stop();
    await registry.stop();
  }
});

test("push through the engine: the digest the registry serves is signed, and cosign verifies it", async () => {
  const registry = await startRegistry();
  try {
    const tarball = await buildTarball({
      context: await sampleContext(join(work.path, "engine")),
      dest: join(work.path, "engine.tar"),
      tags: ["buildx-step-test/sign-engine:latest"],
    });
    const digest = await inspectDigest(tarball);
    const run = await pushSigned({
      PLUGIN_PUSH_VIA: "daemon",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${registry.host}/sign/engine`,
      PLUGIN_TAGS: "v1",
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
    });
    assert.equal(run.code, 0, run.stderr);
    // The containerd image store publishes the tarball's digest: that digest is signed.
    assert.equal(run.json.digest, digest);
    assert.equal(run.json.signatureRef, `${registry.host}/sign/engine:${sigTag(digest)}`);
    const verified = await cosignVerify(`${registry.host}/sign/engine:v1`, keys.pub, { cwd: work.path });
    assert.equal(verified.code, 0, verified.stderr);
  } finally {
    await registry.stop();
  }
});

test("push through the engine: a tag the registry says serves another digest gets no signature for that digest", async () => {
  // Another push moved the tag after the engine pushed it, or the registry answers what it likes: the
  // run signs and reports what the engine pushed, never the digest the registry names.
  const registry = await startRegistry();
  const other = `sha256:${"f".repeat(64)}`;
  const front = await startFaultProxy(registry.host, [
    {
      method: "HEAD",
      path: /\/manifests\/v1$/,
      userAgent: /buildx-step/,
      times: Number.POSITIVE_INFINITY,
      action: {
        kind: "status",
        status: 200,
        headers: {
          "docker-content-digest": other,
          "content-type": "application/vnd.oci.image.manifest.v1+json",
        },
      },
    },
  ]);
  try {
    const tarball = await buildTarball({
      context: await sampleContext(join(work.path, "engine-moved")),
      dest: join(work.path, "engine-moved.tar"),
      tags: ["buildx-step-test/sign-engine-moved:latest"],
    });
    const digest = await inspectDigest(tarball);
    const run = await pushSigned({
      PLUGIN_PUSH_VIA: "daemon",
      PLUGIN_SOURCE_TAR_PATH: tarball,
      PLUGIN_REPO: `${front.host}/sign/moved`,
      PLUGIN_TAGS: "v1",
      PLUGIN_SIGN_KEY: keys.key,
      COSIGN_PASSWORD: keys.password,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(front.faultsApplied() > 0, "the registry was asked what the tag serves");
    assert.match(
      run.stderr,
      new RegExp(`serves ${front.host}/sign/moved:v1 as ${other}, but the engine pushed ${digest}`),
    );
    assert.equal(run.json.digest, digest);
    assert.equal(run.json.signatureRef, `${front.host}/sign/moved:${sigTag(digest)}`);
    assert.deepEqual((run.json as { movedTags?: unknown }).movedTags, [
      { reference: `${front.host}/sign/moved:v1`, serves: other },
    ]);
    const tags = await registryTags(registry.url, "sign/moved");
    assert.ok(tags.includes(sigTag(digest)), tags.join(", "));
    assert.ok(!tags.includes(sigTag(other)), "no signature for a digest this run did not push");
  } finally {
    await front.stop();
    await registry.stop();
  }
});

test("through the classic image store, which publishes another digest, attesting a scanned tarball is refused (exit 2) before the load", async () => {
  const registry = await startRegistry();
  try {
    const run = await runCli([], {
      env: {
        DOCKER_HOST: await classicEngineHost(),
        PLUGIN_PUSH_ONLY: "true",
        PLUGIN_PUSH_VIA: "daemon",
        PLUGIN_SOURCE_TAR_PATH: join(work.path, "single.tar"),
        PLUGIN_REPO: `${registry.host}/sign/classic`,
        PLUGIN_SIGN_KEY: keys.key,
        COSIGN_PASSWORD: keys.password,
        PLUGIN_ATTEST_PREDICATE: reportFile,
        PLUGIN_ATTEST_TYPE: "vuln",
      },
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /PLUGIN_ATTEST_PREDICATE attests .*report\.json about the pushed digest, but the engine .* classic image store/,
    );
    assert.doesNotMatch(run.stderr, /loading/);
    assert.deepEqual(await registryTags(registry.url, "sign/classic"), []);
  } finally {
    await registry.stop();
  }
});

test("build and push (multi-platform): the index digest buildx reports is signed with --sign-key", async () => {
  const context = await sampleContext(join(work.path, "build"));
  const repository = `${sharedRegistry}/sign/build-${Date.now().toString(36)}`;
  // A wrong password stops the run before buildx builds or pushes anything.
  const refused = await runCli(
    ["build", "--repo", repository, "--tag", "v1", "--sign-key", keys.key, context],
    {
      env: { COSIGN_PASSWORD: "not-the-password", CI: "true" },
    },
  );
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /--sign-key: .*cosign\.key cannot sign: the password does not decrypt it/);
  assert.doesNotMatch(refused.stderr, /docker buildx build/);
  assert.deepEqual(
    await registryTags(`http://${sharedRegistry}`, repository.slice(sharedRegistry.length + 1)),
    [],
  );
  const run = await runCli(
    [
      "build",
      "--repo",
      repository,
      "--tag",
      "v1",
      "--platform",
      "linux/amd64,linux/arm64",
      "--sign-key",
      keys.key,
      "--json",
      context,
    ],
    { env: { COSIGN_PASSWORD: keys.password, CI: "true" } },
  );
  assert.equal(run.code, 0, run.stderr);
  const json = JSON.parse(run.stdout) as { digest: string; signatureRef: string };
  const index = await registryManifest(`${repository}:v1`);
  assert.equal(index.digest, json.digest);
  assert.match(index.json.mediaType, /index|manifest\.list/);
  assert.equal(json.signatureRef, `${repository}:${sigTag(json.digest)}`);
  assert.ok(!run.stderr.includes(keys.password));
  const verified = await cosignVerify(`${repository}:v1`, keys.pub, { cwd: work.path });
  assert.equal(verified.code, 0, verified.stderr);
  assert.match(verified.stdout, new RegExp(`"docker-manifest-digest":"${json.digest}"`));
});
