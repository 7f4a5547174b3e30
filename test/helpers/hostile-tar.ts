/**
 * Hostile image tarballs, written header by header: each holds two images, A and B, laid out so that
 * two tar readers in use see different ones (Go's archive/tar behind skopeo, docker and containerd;
 * GNU tar; first-match and last-match name lookups). A is what a reader that reads the tar one way
 * would push, B what a scanner reading it another way would check. Both images are complete (config,
 * layers, manifest), so each reader sees a valid image, not an error.
 */
import { type Blob, blob, blobName } from "./archive-fixtures.js";
import { fileMember, gnuLongMember, member, paxMember, tarFile, tarHeader } from "./raw-tar.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** An image usable both as an OCI layout entry and as a docker-archive entry (diff IDs = layer digests). */
export interface HostileImage {
  /** The name index.json and manifest.json give it. */
  name: string;
  config: Blob;
  layers: Blob[];
  manifest: Blob;
}

/** A one-layer image whose layer is an (empty-content) tar of one small file, unique to `seed`. */
export function hostileImage(seed: string): HostileImage {
  const layer = blob(tarFile([fileMember(`${seed}.txt`, `image ${seed}\n`)]));
  const config = blob({
    architecture: "amd64",
    os: "linux",
    config: { Env: [`IMAGE=${seed}`] },
    rootfs: { type: "layers", diff_ids: [layer.digest] },
  });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: config.digest,
      size: config.size,
    },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer.digest, size: layer.size }],
  });
  return { name: `docker.io/hostile/${seed}:1`, config, layers: [layer], manifest };
}

/** The members holding every blob of the images (once each). */
export function blobMembers(...images: HostileImage[]): Buffer[] {
  const blobs = new Map<string, Blob>();
  for (const image of images)
    for (const b of [image.config, ...image.layers, image.manifest]) blobs.set(b.digest, b);
  return [...blobs.values()].map((b) => fileMember(blobName(b), b.bytes));
}

/** index.json naming `image`, as buildx writes it. */
export function indexJson(image: HostileImage): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: image.manifest.digest,
        size: image.manifest.size,
        annotations: { "io.containerd.image.name": image.name, "org.opencontainers.image.ref.name": "1" },
      },
    ],
  });
}

/** manifest.json describing `image`, as buildx's docker exporter writes it. */
export function manifestJson(image: HostileImage): string {
  return JSON.stringify([
    {
      Config: blobName(image.config),
      RepoTags: [image.name.replace(/^docker\.io\//, "")],
      Layers: image.layers.map(blobName),
    },
  ]);
}

export const OCI_LAYOUT = fileMember("oci-layout", JSON.stringify({ imageLayoutVersion: "1.0.0" }));

/**
 * index.json is A; a later entry named "decoy" carries B's index.json, marked sparse (format 0.1) with
 * GNU.sparse.name=index.json. Go's archive/tar names it index.json (so extraction ends with B's),
 * a reader that takes the PAX path calls it "decoy".
 */
export function sparseRenamesIndex(a: HostileImage, b: HostileImage): Buffer {
  const hidden = indexJson(b);
  return tarFile([
    OCI_LAYOUT,
    ...blobMembers(a, b),
    fileMember("index.json", indexJson(a)),
    paxMember({
      path: "decoy",
      "GNU.sparse.name": "index.json",
      "GNU.sparse.size": String(hidden.length),
      "GNU.sparse.numblocks": "1",
      "GNU.sparse.map": `0,${hidden.length}`,
    }),
    fileMember("decoy", hidden),
  ]);
}

/**
 * A's layout, then a FIFO whose size field covers a whole second layout (B's index.json and blobs).
 * Go's archive/tar gives a FIFO no data and reads that layout as entries (extraction ends with B's
 * index.json); GNU tar, and a reader that gives the FIFO its data, skip it and see A only.
 */
export function fifoHidesLayout(a: HostileImage, b: HostileImage, typeflag = "6"): Buffer {
  const inner = Buffer.concat([...blobMembers(b), fileMember("index.json", indexJson(b))]);
  return tarFile([
    OCI_LAYOUT,
    ...blobMembers(a),
    fileMember("index.json", indexJson(a)),
    tarHeader({ name: "pipe", typeflag, size: inner.length, linkname: typeflag === "2" ? "oci-layout" : "" }),
    inner,
  ]);
}

/**
 * index.json is A; a later entry has a PAX path "decoy" and a GNU long name "index.json", and carries
 * B's index.json. Go's archive/tar takes the long name (extraction ends with B's), GNU tar the PAX path
 * (index.json stays A).
 */
export function paxPathAgainstLongName(a: HostileImage, b: HostileImage): Buffer {
  return tarFile([
    OCI_LAYOUT,
    ...blobMembers(a, b),
    fileMember("index.json", indexJson(a)),
    paxMember({ path: "decoy" }),
    gnuLongMember("L", "index.json"),
    fileMember("short", indexJson(b)),
  ]);
}

/**
 * A docker-archive whose manifest.json is given twice with a folder of that name between: A first, B
 * last. containers/image (skopeo) and go-containerregistry (Trivy) take the first, extraction (docker
 * load on the classic store) ends with the last.
 */
export function nameTwiceAroundFolder(a: HostileImage, b: HostileImage): Buffer {
  return tarFile([
    ...blobMembers(a, b),
    fileMember("manifest.json", manifestJson(a)),
    member({ name: "manifest.json/", typeflag: "5" }),
    fileMember("manifest.json", manifestJson(b)),
  ]);
}

/**
 * A's layout, then a PAX global header with path=index.json, then an entry "decoy" with B's index.json.
 * GNU tar applies the global path to the entry (a second index.json, B, extracted last); Go's
 * archive/tar ignores it (index.json stays A).
 */
export function globalHeaderRenames(a: HostileImage, b: HostileImage): Buffer {
  return tarFile([
    OCI_LAYOUT,
    ...blobMembers(a, b),
    fileMember("index.json", indexJson(a)),
    paxMember({ path: "index.json" }, { global: true }),
    fileMember("decoy", indexJson(b)),
  ]);
}

/**
 * A's layout, a single zero block, then B's index.json. GNU tar stops at the zero block (A), `tar
 * --ignore-zeros` reads on (B last), Go's archive/tar refuses the file.
 */
export function loneZeroBlockHidesIndex(a: HostileImage, b: HostileImage): Buffer {
  return tarFile([
    OCI_LAYOUT,
    ...blobMembers(a, b),
    fileMember("index.json", indexJson(a)),
    Buffer.alloc(512),
    fileMember("index.json", indexJson(b)),
  ]);
}

/**
 * A buildx-style docker tarball whose index.json is A and whose manifest.json is B: an OCI reader (the
 * push, skopeo's oci-archive) sees A, a docker-archive reader (docker load, skopeo's docker-archive,
 * Trivy --input) sees B. The tar itself is plain.
 */
export function manifestJsonDisagrees(a: HostileImage, b: HostileImage): Buffer {
  return tarFile([
    OCI_LAYOUT,
    ...blobMembers(a, b),
    fileMember("index.json", indexJson(a)),
    fileMember("manifest.json", manifestJson(b)),
  ]);
}

/**
 * index.json with "manifests" naming A and "Manifests" naming B: JSON.parse reads A, Go's encoding/json
 * (skopeo, containerd) matches both keys to one field and keeps the last, B. The tar itself is plain.
 */
export function caseFoldedIndexKeys(a: HostileImage, b: HostileImage): Buffer {
  const [first, second] = [JSON.parse(indexJson(a)), JSON.parse(indexJson(b))];
  const index = `${JSON.stringify(first).slice(0, -1)},"Manifests":${JSON.stringify(second.manifests)}}`;
  return tarFile([OCI_LAYOUT, ...blobMembers(a, b), fileMember("index.json", index)]);
}

/**
 * A's layout, complete with its end-of-archive marker, then a second tar holding B's index.json: the file
 * `cat a.tar b.tar` writes (or a decoder of two gzip members or zstd frames). Go's archive/tar and GNU tar
 * stop at the marker (A); `tar --ignore-zeros` reads on and extracts B's index.json last.
 */
export function tarAfterEndOfArchive(a: HostileImage, b: HostileImage): { first: Buffer; second: Buffer } {
  return {
    first: tarFile([OCI_LAYOUT, ...blobMembers(a, b), fileMember("index.json", indexJson(a))]),
    second: tarFile([fileMember("index.json", indexJson(b))]),
  };
}
