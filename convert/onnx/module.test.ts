/**
 * The module cursor: the node that reads a checkpoint weight is scoped under that weight's module, and a checkpoint
 * whose tensors differ from the architecture walk is refused before a graph is built from it.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { readXcodec2Config } from "../architecture/mod.ts";
import { openSafetensors, writeSafetensors } from "../safetensors/mod.ts";
import type { DType } from "../tensor_source.ts";
import { buildDecoder } from "./decoder/decoder.ts";
import { buildEncoder } from "./encoder/encoder.ts";
import { GraphBuilder } from "./graph.ts";
import { Weights } from "./weights.ts";

const TINY = join(import.meta.dirname!, "..", "..", "fixtures", "reference", "checkpoints", "tiny-a", "converted");
const cfg = await readXcodec2Config(join(TINY, "config.json"));
const dir = await mkdtemp(join(tmpdir(), "module-test-"));
after(() => rm(dir, { recursive: true, force: true }));

test("every node that reads a checkpoint weight is named under that weight's module", async () => {
  for (const build of [buildEncoder, buildDecoder]) {
    const w = await Weights.open(TINY);
    const g = new GraphBuilder("names");
    build(g, w, cfg, { masks: true });
    const unused = new Set(w.unused());
    const read = new Set(w.names().filter((n) => !unused.has(n)));
    const seen = new Set<string>();
    for (const node of g.allNodes()) {
      for (const input of node.inputs.filter((i) => read.has(i))) {
        const scope = node.name.split("/").slice(0, -1).join(".");
        assert.ok(scope !== "" && input.startsWith(`${scope}.`), `${node.name} reads ${input}`);
        seen.add(input);
      }
    }
    assert.deepEqual(seen, read); // every weight the graph read is an initializer of its own name
    w.close();
  }
});

test("a checkpoint whose tensors differ from the walk is refused before a graph is built", async () => {
  const src = await openSafetensors(join(TINY, "model.safetensors"));
  const tensors: { name: string; dtype: DType; shape: number[]; data: Uint8Array }[] = [];
  for (const t of src.list()) {
    tensors.push({ name: t.name, dtype: t.dtype, shape: t.shape, data: await src.read(t.name) });
  }
  await src.close();
  const variant = async (name: string, edit: (ts: typeof tensors) => typeof tensors) => {
    const file = join(dir, `${name}.safetensors`);
    await writeSafetensors(file, edit(tensors.map((t) => ({ ...t }))), { metadata: { format: "pt" } });
    return Weights.open(file);
  };
  const misshapen = await variant("misshapen", (ts) => {
    const t = ts.find((x) => x.name === "acoustic_decoder.embed.weight")!;
    t.shape = [64, 64, 5];
    t.data = t.data.subarray(0, 64 * 64 * 5 * 4);
    return ts;
  });
  assert.throws(
    () => buildDecoder(new GraphBuilder("d"), misshapen, cfg, { masks: true }),
    /tensor acoustic_decoder\.embed\.weight has shape \[64,64,5\], the config implies \[64,64,7\]/,
  );
  const missing = await variant("missing", (ts) => ts.filter((t) => t.name !== "quantizer.project_out.bias"));
  assert.throws(
    () => buildDecoder(new GraphBuilder("d"), missing, cfg, { masks: true }),
    /tensor quantizer\.project_out\.bias is missing \(the config implies \[96\]\)/,
  );
  const extra = await variant("extra", (ts) => [...ts, { ...ts[0]!, name: "acoustic_decoder.extra.weight" }]);
  buildDecoder(new GraphBuilder("d"), extra, cfg, { masks: true });
  assert.throws(() => extra.f32("acoustic_decoder.extra.weight"), /not part of the architecture the config describes/);
  for (const w of [misshapen, missing, extra]) w.close();
});
