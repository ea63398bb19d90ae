/**
 * Codes as text on a stream (`xcodec2 decode … -`): integers separated by whitespace or commas, optionally inside
 * brackets (so a JSON array per line works too), read piece by piece as a generator writes them. Each complete number
 * is handed on as soon as its separator arrives, so a TTS pipeline's audio starts before its last code exists.
 * Range checks are the decoder's (it names the absolute position); a token that is not an integer is an error here,
 * naming its position in the same count.
 */
import { CodesFileError } from "./codes_io.ts";

const SEPARATOR = /[\s,[\]]/;

export async function* codesFromText(
  stream: AsyncIterable<Uint8Array | string>,
  name: string,
): AsyncGenerator<Int32Array, void, undefined> {
  const decoder = new TextDecoder();
  let carry = "", position = 0;
  const parse = (tokens: string[]): Int32Array => {
    const out = new Int32Array(tokens.length);
    tokens.forEach((t, i) => {
      if (!/^\d{1,10}$/.test(t) || Number(t) > 0x7fffffff) {
        throw new CodesFileError(name, `"${t.slice(0, 20)}" at code position ${position + i} is not a code`);
      }
      out[i] = Number(t);
    });
    position += tokens.length;
    return out;
  };
  for await (const chunk of stream) {
    const text = carry + (typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    // the last token may continue in the next piece: keep it unless a separator ends the text
    const parts = text.split(SEPARATOR);
    carry = parts.pop()!;
    const tokens = parts.filter(Boolean);
    if (tokens.length) yield parse(tokens);
  }
  carry += decoder.decode();
  const last = carry.split(SEPARATOR).filter(Boolean);
  if (last.length) yield parse(last);
}
