// Stands in for Cornerstone's image codecs (see build.mjs): the archive serves frames
// uncompressed, so a compressed frame here means a request went somewhere it should not.
const reason =
  "This viewer reads uncompressed frames from the archive's own DICOMweb; no image codec is shipped.";

export function initialize() {
  return Promise.reject(new Error(reason));
}

export default function decode() {
  throw new Error(reason);
}
