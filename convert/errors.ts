/** A conversion that cannot proceed, naming the file and (where one is at fault) the tensor. */
import { Xcodec2Error } from "../common/errors.ts";
export class ConversionError extends Xcodec2Error {
  readonly file: string | undefined;
  readonly tensor: string | undefined;
  readonly detail: string;

  constructor(detail: string, where: { file?: string; tensor?: string } = {}) {
    const prefix = [where.file, where.tensor === undefined ? undefined : `tensor "${where.tensor}"`].filter(Boolean)
      .join(": ");
    super(prefix ? `${prefix}: ${detail}` : detail);
    this.file = where.file;
    this.tensor = where.tensor;
    this.detail = detail;
  }
}
