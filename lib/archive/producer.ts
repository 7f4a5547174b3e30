/**
 * Which tool wrote an archive, said only when its layout tells: several tools write the same formats,
 * and `inspect` must not call a skopeo docker-archive "docker save". The layouts:
 * - docker save, classic image store, engine 25+: index.json, manifest.json and `repositories`
 *   (https://github.com/moby/moby/blob/master/image/tarexport/save.go);
 * - docker save, classic store before 25: `<id>/layer.tar`, `<id>/json`, manifest.json, `repositories`;
 * - containers/image (skopeo `docker-archive:`, podman and buildah save): layers as `<digest>.tar` at the
 *   top, `<id>/layer.tar` only as links to them
 *   (https://github.com/containers/image/blob/main/docker/internal/tarfile/writer.go);
 * - buildx `--output type=docker` and docker save on the containerd image store: both index.json and
 *   manifest.json, no `repositories`, in the same layout: not told apart;
 * - an OCI layout: buildx `type=oci`, skopeo, podman, umoci and others alike.
 */
import type { ArchiveFormat } from "./types.js";

interface LayoutFacts {
  format: ArchiveFormat;
  hasIndexJson: boolean;
  /** manifest.json's layer paths, all entries. */
  layerPaths: string[];
}

export function describeProducer(facts: LayoutFacts): string {
  switch (facts.format) {
    case "oci":
      return "OCI image layout";
    case "docker":
      return "docker-archive + OCI layout (buildx --output type=docker, or docker save on the containerd image store)";
    case "docker-save":
      if (facts.hasIndexJson) return "docker save (classic image store, engine 25 or later)";
      if (
        facts.layerPaths.length > 0 &&
        facts.layerPaths.every((path) => /^(\.\/)?[a-f0-9]{64}\.tar$/.test(path))
      )
        return "docker-archive as containers/image writes it (skopeo, podman, buildah)";
      if (
        facts.layerPaths.length > 0 &&
        facts.layerPaths.every((path) => /^(\.\/)?[a-f0-9]{64}\/layer\.tar$/.test(path))
      )
        return "docker-archive in the layout of docker save before engine 25 (classic image store)";
      return "docker-archive (manifest.json only)";
  }
}
