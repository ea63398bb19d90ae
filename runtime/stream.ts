/**
 * Streaming decode (the body of `Xcodec2.decodeStream`): codes arrive in pieces of any size, audio leaves as soon as
 * a window's centre and right context have arrived.
 *
 * Window k of the stream's grid runs once `framesNeeded(k)` codes exist (or the input has ended), on exactly the
 * codes `decode(…, { streaming: true })` gives it, alone in its call, and goes through the same joiner: the
 * concatenated output equals that offline twin bit for bit however the input is split. The first window is short
 * (STREAM_GRID.first = 10 codes) so that the first audio needs only 10 + right codes.
 *
 * Held: only the codes that later windows still need (from the next window's left context on) and one blend
 * region; nothing else survives a window. Breaking out of `for await` returns the input iterator (its `finally`
 * runs) and drops both. A code that is not an integer in [0, codebook) ends the stream with an InputError naming its
 * absolute position, after the audio of every window that the codes before it completed; an error thrown by the
 * input propagates unchanged.
 */
import { centre, framesNeeded, type WindowGrid, WindowJoiner, windowOf } from "./windows.ts";
import { InputError } from "./validate.ts";

/** Exactly one decoder call over one sequence. */
export type DecodeOne = (codes: Int32Array) => Promise<Float32Array>;

export async function* decodeStreamWindows(
  input: AsyncIterable<ArrayLike<number>> | Iterable<ArrayLike<number>>,
  decodeOne: DecodeOne,
  grid: WindowGrid,
  codebook: number,
  /** output samples per code (the codec's `facts.decoderHop`) */
  hop: number,
): AsyncGenerator<Float32Array, void, undefined> {
  if (input === null || typeof input !== "object" || !(Symbol.asyncIterator in input || Symbol.iterator in input)) {
    throw new InputError("decodeStream: expected an async iterable of code arrays");
  }
  const joiner = new WindowJoiner(grid, hop);
  // Frames [base, received) are held at buf[head …]: frames before the next window's left context are dropped by
  // moving `head`, and the buffer is compacted (or grown) only when an arriving piece does not fit behind them.
  let buf = new Int32Array(1024);
  let head = 0, base = 0, received = 0, k = 0, pieceIndex = 0;

  const run = async (total: number): Promise<Float32Array> => {
    const w = windowOf(k, total, grid)!;
    const audio = await decodeOne(buf.slice(head + w.from - base, head + w.to - base));
    const piece = joiner.push(w, audio);
    k++;
    const keepFrom = Math.min(received, Math.max(0, centre(k, grid)[0] - grid.left));
    if (keepFrom > base) {
      head += keepFrom - base;
      base = keepFrom;
    }
    return piece;
  };

  for await (const chunk of input) {
    if (chunk === null || typeof chunk !== "object" || typeof (chunk as ArrayLike<number>).length !== "number") {
      throw new InputError(`decodeStream: piece ${pieceIndex} is not an array of codes (got ${typeof chunk})`);
    }
    pieceIndex++;
    const n = chunk.length, held = received - base;
    if (head + held + n > buf.length) {
      const next = held + n > buf.length ? new Int32Array(Math.max(2 * buf.length, held + n)) : buf;
      next.set(buf.subarray(head, head + held)); // a move within one buffer: TypedArray.set copies as if via a temp
      buf = next;
      head = 0;
    }
    let bad: { at: number; value: unknown } | undefined;
    for (let i = 0; i < n; i++) {
      const v = chunk[i];
      if (!(Number.isInteger(v) && v >= 0 && v < codebook)) {
        bad = { at: received, value: v };
        break;
      }
      buf[head + received - base] = v;
      received++;
    }
    while (received >= framesNeeded(k, grid)) {
      const piece = await run(received);
      if (piece.length) yield piece;
    }
    if (bad) {
      const what = Number.isInteger(bad.value) ? "is outside" : "is not an integer in";
      throw new InputError(
        `decodeStream: code ${String(bad.value)} at position ${bad.at} ${what} [0, ${codebook - 1}]`,
      );
    }
  }
  // the input has ended: the remaining windows run with whatever right context there is
  while (windowOf(k, received, grid)) {
    const piece = await run(received);
    if (piece.length) yield piece;
  }
  if (received > 0) {
    const rest = joiner.finish();
    if (rest.length) yield rest;
  }
}
