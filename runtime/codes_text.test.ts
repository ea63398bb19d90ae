/** Codes as text on a stream: numbers split across pieces, every separator, and a bad token named by position. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { codesFromText } from "./codes_text.ts";
import { CodesFileError } from "./codes_io.ts";

async function all(pieces: (string | Uint8Array)[]): Promise<{ codes: number[]; sizes: number[] }> {
  const codes: number[] = [], sizes: number[] = [];
  for await (
    const c of codesFromText(
      (async function* () {
        yield* pieces;
      })(),
      "<stdin>",
    )
  ) {
    codes.push(...c);
    sizes.push(c.length);
  }
  return { codes, sizes };
}

test("numbers split across pieces, spaces, commas, brackets and newlines; each complete number as it arrives", async () => {
  const bytes = new TextEncoder().encode("[12, 3");
  const r = await all([bytes, "4,5\n6 ", "", "  7][8", "9", "\t65535"]);
  assert.deepEqual(r.codes, [12, 34, 5, 6, 7, 89, 65535]);
  // a number is handed on when its separator arrives ("3" waits for "4,"; "8" for "9\t"), the last one at the end
  assert.deepEqual(r.sizes, [1, 3, 1, 1, 1]);
  assert.deepEqual((await all([])).codes, []);
  assert.deepEqual((await all([" \n, "])).codes, []);
});

test("a token that is not a code: an error naming it and its position", async () => {
  for (
    const [text, msg] of [
      ["1 2 x3 4", /<stdin>: "x3" at code position 2 is not a code/],
      ["1 -5", /"-5" at code position 1 is not a code/],
      ["1.5", /"1.5" at code position 0/],
      ["99999999999", /"99999999999" at code position 0/],
    ] as const
  ) {
    await assert.rejects(all([text]), (e: Error) => e instanceof CodesFileError && msg.test(e.message));
  }
});
