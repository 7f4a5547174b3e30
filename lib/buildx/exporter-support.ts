/**
 * The buildx `docker` driver writes a tarball (`--output type=docker|oci,dest=...`) only when the engine
 * uses the containerd image store; with the classic store buildx answers "Docker exporter is not supported
 * for the docker driver" (https://docs.docker.com/build/exporters/#image-and-registry-exporters). The
 * store is detected before building; this recognises buildx's answer too, for engines that misreport it.
 */
export function isExporterUnsupported(lines: readonly string[]): boolean {
  return lines.some((line) => /exporter is not supported for the docker driver/i.test(line));
}

/**
 * Whether the classic store's `docker save` writes an OCI image layout (index.json, oci-layout) beside
 * docker's manifest.json: engines 25 and later do (moby v25.0.0 release notes, "docker save" OCI layout).
 */
export function saveWritesOciLayout(engineVersion: string): boolean {
  const major = Number.parseInt(engineVersion.split(".")[0] ?? "", 10);
  return Number.isFinite(major) && major >= 25;
}
