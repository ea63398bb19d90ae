/** `xcodec2 export <converted-dir>`: write the ONNX graphs beside a converted checkpoint. */
import { Command } from "../../common/args.ts";
import { EXIT } from "../../common/errors.ts";
import { exportOnnx } from "./export.ts";

const EXPORT = new Command({
  name: "export",
  summary:
    "Build the ONNX graphs of a converted folder: encoder_model.onnx and decoder_model.onnx (+ fp16 variants, + the int8 decoder with --int8).",
  positionals: [{ name: "converted-dir", help: "a converted (Hugging Face Xcodec2Model) folder" }],
  options: {
    out: { type: "string", value: "DIR", help: "where the graphs go (default <converted-dir>/onnx)" },
    "no-masks": {
      type: "boolean",
      help: "upstream's leaking batch graphs, without per-item masks (for parity testing only)",
    },
    "no-fp16": { type: "boolean", help: "write the fp32 graphs only" },
    int8: { type: "boolean", help: "also write decoder_model_int8.onnx (int8 linear layers; `--precision int8`)" },
  },
});

export function runExportCommand(argv: string[]): Promise<number> {
  return EXPORT.run(argv, async ({ positionals: [dir], values: v }) => {
    const report = await exportOnnx(dir, {
      out: v.out,
      masks: !v["no-masks"],
      fp16: !v["no-fp16"],
      int8: v.int8,
      log: (m) => console.error(m),
    });
    if (!report.masks) {
      console.error("note: exported WITHOUT per-item masks: batches leak padding (for parity testing only)");
    }
    return EXIT.ok;
  });
}
