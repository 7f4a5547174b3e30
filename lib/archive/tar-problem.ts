/**
 * Why a tar file cannot be indexed, raised by the parts of the tar reader that do not know the file's
 * path; indexTar names the file.
 * - `corrupt-archive`: not a well-formed tar file (cut short, bad checksum, malformed records).
 * - `ambiguous-archive`: well-formed enough for some readers, but two readers in use (Go's archive/tar
 *   behind docker, containerd, skopeo and Trivy; GNU tar; the first-match and last-match lookups of image
 *   tools) would see different files in it.
 */
import { ProtocolError } from "../protocol-error.js";

export function corrupt(message: string): ProtocolError {
  return new ProtocolError("corrupt-archive", message);
}

export function ambiguous(message: string): ProtocolError {
  return new ProtocolError("ambiguous-archive", message);
}
