/**
 * One TensorSource over several: NeuCodec's checkpoint and the Wav2Vec2-BERT weights its original loads from
 * facebook/w2v-bert-2.0, the latter under the `semantic_model.` prefix the other members store them with, so the
 * conversion plan sees one original checkpoint (as transformers' converter merges them, convert_neucodec_checkpoint.py
 * `original_checkpoint.update({f"semantic_model.{k}": …})`). Parts are read in turn, each front to back.
 */
import { ConversionError } from "./errors.ts";
import type { TensorInfo, TensorSource } from "./tensor_source.ts";

export interface SourcePart {
  source: TensorSource;
  /** prepended to every name of this part */
  prefix: string;
  /** the files the part reads (hashed for conversion.json) */
  files: string[];
}

export class CompositeSource implements TensorSource {
  private readonly owner = new Map<string, { part: SourcePart; inner: string }>();
  private readonly infos: TensorInfo[] = [];

  constructor(readonly path: string, readonly parts: readonly SourcePart[]) {
    for (const part of parts) {
      for (const t of part.source.list()) {
        const name = part.prefix + t.name;
        const other = this.owner.get(name);
        if (other) {
          throw new ConversionError(`tensor "${name}" is in both ${other.part.source.path} and ${part.source.path}`, {
            file: part.source.path,
          });
        }
        this.owner.set(name, { part, inner: t.name });
        this.infos.push({ ...t, name });
      }
    }
  }

  list(): TensorInfo[] {
    return this.infos;
  }

  info(name: string): TensorInfo | undefined {
    const o = this.owner.get(name);
    return o && { ...o.part.source.info(o.inner)!, name };
  }

  read(name: string): Promise<Uint8Array> {
    const o = this.owner.get(name);
    if (!o) throw new ConversionError(`no tensor "${name}"`, { file: this.path });
    return o.part.source.read(o.inner);
  }

  /** Every file the parts read, in part order. */
  files(): string[] {
    return this.parts.flatMap((p) => p.files);
  }

  async close(): Promise<void> {
    for (const p of this.parts) await p.source.close();
  }
}
