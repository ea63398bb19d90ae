/** A malformed or unreadable safetensors file (or shard index), naming the file and, where one is at fault, the tensor. */
import { Xcodec2Error } from "../../common/errors.ts";
export class SafetensorsError extends Xcodec2Error {
  readonly file: string;
  readonly tensor: string | undefined;
  readonly detail: string;

  constructor(file: string, detail: string, tensor?: string) {
    super(tensor === undefined ? `${file}: ${detail}` : `${file}: tensor "${tensor}": ${detail}`);
    this.file = file;
    this.tensor = tensor;
    this.detail = detail;
  }
}
