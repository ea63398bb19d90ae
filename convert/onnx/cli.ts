/** `xcodec2 export <converted-dir>`: write the ONNX graphs beside a converted checkpoint. */
import { parseArgs } from "node:util";
import { exportOnnx } from "./export.ts";

export async function runExportCommand(argv: string[]): Promise<number> {
  const { values: v, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "no-masks": { type: "boolean", default: false },
      "no-fp16": { type: "boolean", default: false },
    },
  });
  if (positionals.length !== 1) {
    console.error("usage: xcodec2 export <converted-dir> [--out DIR (default <dir>/onnx)] [--no-masks] [--no-fp16]");
    return 2;
  }
  const report = await exportOnnx(positionals[0], {
    out: v.out,
    masks: !v["no-masks"],
    fp16: !v["no-fp16"],
    log: (m) => console.error(m),
  });
  if (!report.masks) {
    console.error("note: exported WITHOUT per-item masks: batches leak padding (for parity testing only)");
  }
  return 0;
}
