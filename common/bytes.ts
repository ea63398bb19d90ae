/** Byte arrays built from pieces: the PNG encoder's chunks, and the fixture writers' zip, tar and ONNX data. */

/** The parts one after another, in a new plain Uint8Array (not a Node Buffer: tests compare bytes strictly). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
