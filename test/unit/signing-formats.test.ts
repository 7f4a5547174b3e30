// cosign's formats, byte for byte where cosign's bytes were observed (cosign 2.5 signing an image in a
// local registry): the simple signing payload, the `.sig` image's config and manifest, the tags; the DSSE
// pre-authentication encoding (the spec's own example), the in-toto statement, the predicate types.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { parseRepository } from "../../lib/reference/name.js";
import {
  cosignAttestationLayer,
  isSameAttestation,
  mayBeSameAttestation,
} from "../../lib/signing/cosign-attestation.js";
import { cosignSignatureLayer, isSameSignature } from "../../lib/signing/cosign-signature.js";
import { parseEnvelope, preAuthenticationEncoding } from "../../lib/signing/dsse.js";
import { predicateType } from "../../lib/signing/predicate-types.js";
import {
  attestationTag,
  parseSignatureImage,
  serializeSignatureImage,
  signatureTag,
} from "../../lib/signing/signature-image.js";
import { loadSigningKey } from "../../lib/signing/signing-key.js";
import { cosignRepositoryName, simpleSigningPayload } from "../../lib/signing/simple-signing.js";
import { ecKey, pkcs8Pem } from "../helpers/cosign-key.js";

const sha256 = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
// What cosign 2.5 wrote for 127.0.0.1:5000/cosign-probe@IMAGE: its payload blob and its config blob.
const IMAGE = "sha256:201897f944146f8f5d0d44b9b98af92b3e4b65f86a67cbd6aded884c7f0772e4";
const COSIGN_PAYLOAD_DIGEST = "sha256:cc79891bb8eed31b823d211db7d781b9136832d74818fefba244e19b278b63ae";
const COSIGN_CONFIG_DIGEST = "sha256:d45172ffe205acfa3c0443758de1c88003d101613edfb0b606d7fd496df338aa";

test("the simple signing payload is cosign's, byte for byte", () => {
  const payload = simpleSigningPayload("127.0.0.1:5000/cosign-probe", IMAGE);
  assert.equal(sha256(payload), COSIGN_PAYLOAD_DIGEST);
  assert.equal(
    payload.toString(),
    `{"critical":{"identity":{"docker-reference":"127.0.0.1:5000/cosign-probe"},"image":{"docker-manifest-digest":"${IMAGE}"},"type":"cosign container image signature"},"optional":null}`,
  );
});

test("repositories are named as cosign names them: Docker Hub as index.docker.io", () => {
  assert.equal(cosignRepositoryName(parseRepository("127.0.0.1:5000/team/app")), "127.0.0.1:5000/team/app");
  assert.equal(cosignRepositoryName(parseRepository("alpine")), "index.docker.io/library/alpine");
  assert.equal(cosignRepositoryName(parseRepository("ghcr.io/o/app")), "ghcr.io/o/app");
});

test("the .sig and .att tags of a digest", () => {
  assert.equal(signatureTag(IMAGE), `sha256-${IMAGE.slice(7)}.sig`);
  assert.equal(attestationTag(IMAGE), `sha256-${IMAGE.slice(7)}.att`);
});

test("the signature image's config is go-containerregistry's (cosign's bytes for one layer); layers append", () => {
  const layer = {
    mediaType: "application/vnd.dev.cosign.simplesigning.v1+json",
    size: 243,
    digest: COSIGN_PAYLOAD_DIGEST,
    annotations: { "dev.cosignproject.cosign/signature": "MEUCIQ==" },
  };
  const image = {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    configMediaType: "application/vnd.oci.image.config.v1+json",
    layers: [layer],
  };
  const one = serializeSignatureImage(image);
  assert.equal(one.configDigest, COSIGN_CONFIG_DIGEST);
  assert.equal(sha256(one.config), COSIGN_CONFIG_DIGEST);
  const manifest = JSON.parse(one.manifest.toString());
  assert.deepEqual(manifest, {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      size: 233,
      digest: COSIGN_CONFIG_DIGEST,
    },
    layers: [layer],
  });
  // Read back, and one more layer: two history entries, two diff IDs, the first layer kept as it was.
  const parsed = parseSignatureImage(one.manifest.toString());
  assert.deepEqual(parsed, image);
  const second = { ...layer, digest: `sha256:${"1".repeat(64)}` };
  const two = serializeSignatureImage({ ...image, layers: [layer, second] });
  const config = JSON.parse(two.config.toString());
  assert.equal(config.history.length, 2);
  assert.deepEqual(config.rootfs.diff_ids, [layer.digest, second.digest]);
});

test("an index, or a manifest without layers, is not a signature image to add to", () => {
  assert.equal(
    parseSignatureImage('{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}'),
    undefined,
  );
  assert.equal(parseSignatureImage('{"config":{"mediaType":"x"}}'), undefined);
  assert.equal(parseSignatureImage("not json"), undefined);
  assert.equal(
    parseSignatureImage(
      '{"config":{"mediaType":"x"},"layers":[{"mediaType":"m","size":1,"digest":"sha256:abc"}]}',
    ),
    undefined,
  );
});

test("DSSE's pre-authentication encoding: the spec's example", () => {
  assert.equal(
    preAuthenticationEncoding("http://example.com/HelloWorld", Buffer.from("hello world")).toString(),
    "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
  );
});

test("a signature layer verifies with the key, and one for another digest is not the same signature", async () => {
  const key = await loadSigningKey(pkcs8Pem(ecKey().privateKey), undefined);
  const layer = cosignSignatureLayer(key, "127.0.0.1:5000/cosign-probe", IMAGE);
  assert.equal(layer.digest, COSIGN_PAYLOAD_DIGEST);
  assert.equal(layer.mediaType, "application/vnd.dev.cosign.simplesigning.v1+json");
  const again = cosignSignatureLayer(key, "127.0.0.1:5000/cosign-probe", IMAGE);
  // ECDSA signs differently each time: the second is a duplicate because the key verifies the first.
  assert.notEqual(
    again.annotations?.["dev.cosignproject.cosign/signature"],
    layer.annotations?.["dev.cosignproject.cosign/signature"],
  );
  assert.ok(isSameSignature(key, again, layer));
  const other = cosignSignatureLayer(key, "127.0.0.1:5000/cosign-probe", `sha256:${"2".repeat(64)}`);
  assert.ok(!isSameSignature(key, other, layer));
  const otherKey = await loadSigningKey(pkcs8Pem(ecKey().privateKey), undefined);
  assert.ok(
    !isSameSignature(otherKey, cosignSignatureLayer(otherKey, "127.0.0.1:5000/cosign-probe", IMAGE), layer),
  );
});

test("an attestation layer: a DSSE envelope of the in-toto statement, annotated as cosign does", async () => {
  const key = await loadSigningKey(pkcs8Pem(ecKey().privateKey), undefined);
  const options = {
    predicateType: "https://cosign.sigstore.dev/attestation/vuln/v1",
    predicate: { scanner: { result: {} } },
    subjectName: "127.0.0.1:5000/app",
    digest: IMAGE,
  };
  const layer = cosignAttestationLayer(key, options);
  assert.equal(layer.mediaType, "application/vnd.dsse.envelope.v1+json");
  assert.deepEqual(layer.annotations, {
    "dev.cosignproject.cosign/signature": "",
    predicateType: "https://cosign.sigstore.dev/attestation/vuln/v1",
  });
  const envelope = parseEnvelope(layer.bytes);
  assert.equal(envelope?.payloadType, "application/vnd.in-toto+json");
  assert.equal(envelope?.signatures[0]?.keyid, "");
  const statement = JSON.parse(Buffer.from(envelope?.payload ?? "", "base64").toString());
  assert.deepEqual(statement, {
    _type: "https://in-toto.io/Statement/v0.1",
    predicateType: options.predicateType,
    subject: [{ name: "127.0.0.1:5000/app", digest: { sha256: IMAGE.slice(7) } }],
    predicate: options.predicate,
  });
  const again = cosignAttestationLayer(key, options);
  assert.ok(mayBeSameAttestation(again, layer));
  assert.ok(isSameAttestation(key, again, layer.bytes));
  const changed = cosignAttestationLayer(key, { ...options, predicate: { scanner: { result: { x: 1 } } } });
  assert.ok(!isSameAttestation(key, changed, layer.bytes));
});

test("predicate types: cosign's names and their URIs, a URI as it is, anything else refused", () => {
  const uris = Object.fromEntries(
    ["vuln", "spdxjson", "cyclonedx", "slsaprovenance", "custom", "openvex"].map((n) => [
      n,
      predicateType(n)?.uri,
    ]),
  );
  assert.deepEqual(uris, {
    vuln: "https://cosign.sigstore.dev/attestation/vuln/v1",
    spdxjson: "https://spdx.dev/Document",
    cyclonedx: "https://cyclonedx.org/bom",
    slsaprovenance: "https://slsa.dev/provenance/v0.2",
    custom: "https://cosign.sigstore.dev/attestation/v1",
    openvex: "https://openvex.dev/ns",
  });
  assert.equal(predicateType("https://example.com/scan/v1")?.uri, "https://example.com/scan/v1");
  assert.equal(predicateType("trivy"), undefined);
  assert.equal(predicateType("/just/a/path"), undefined);
});
