/**
 * A read-only, streaming view of a checkpoint's tensors, whatever the file format (safetensors, sharded safetensors,
 * PyTorch/Lightning zip pickles). The converter reads through this interface only, one tensor at a time, so a
 * checkpoint is never held whole in memory.
 */

/** safetensors dtype names; the pickle reader maps torch storage types onto these. */
export type DType =
  | "F64"
  | "F32"
  | "F16"
  | "BF16"
  | "I64"
  | "I32"
  | "I16"
  | "I8"
  | "U8"
  | "BOOL"
  | "F8_E4M3"
  | "F8_E5M2";

export const DTYPE_BYTES: Readonly<Record<DType, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
  /** bytes of the contiguous little-endian data (product(shape) · DTYPE_BYTES[dtype]) */
  byteLength: number;
}

export interface TensorSource {
  /** file or folder the tensors come from, for error messages */
  readonly path: string;
  /** every tensor, in file order */
  list(): TensorInfo[];
  info(name: string): TensorInfo | undefined;
  /** the tensor's bytes, contiguous, little-endian, row-major */
  read(name: string): Promise<Uint8Array>;
  /** free file handles */
  close(): Promise<void>;
}
