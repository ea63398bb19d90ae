/**
 * The inert values our unpickler builds. Nothing here has behaviour: a Python class the file names becomes a record
 * that remembers the name, a tensor becomes a reference to a zip entry plus its view geometry.
 */

import type { DType } from "../tensor_source.ts";

/** A module-level name the pickle referred to (only ever an allow-listed one). */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

export class PyTuple {
  constructor(readonly items: PyValue[]) {}
}

export class PySet {
  constructor(readonly items: PyValue[], readonly frozen: boolean) {}
}

/** dict, OrderedDict, defaultdict and dict subclasses (Lightning's AttributeDict); `attrs` is the BUILD state. */
export class PyDict {
  readonly map = new Map<PyValue, PyValue>();
  attrs: PyValue | undefined;
  constructor(readonly cls: PyGlobal | undefined = undefined) {}
  get(key: string): PyValue | undefined {
    return this.map.get(key);
  }
}

/** An instance of an allow-listed plain-data class (e.g. omegaconf's DictConfig inside Lightning hyper-parameters). */
export class PyObject {
  state: PyValue | undefined;
  constructor(readonly cls: PyGlobal, readonly args: PyValue[]) {}
}

/** `('storage', storage_type, key, location, numel)`: an entry `data/<key>` of the zip, never read until needed. */
export class StorageRef {
  constructor(
    readonly key: string,
    /** undefined for torch dtypes safetensors has no name for (complex, quantised) */
    readonly dtype: DType | undefined,
    /** torch's name of the element type, for messages */
    readonly dtypeName: string,
    readonly elementSize: number,
    readonly numel: number,
    readonly location: string,
  ) {}
}

/** A tensor as `_rebuild_tensor_v2` describes it: a strided view into a storage. */
export class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyValue[]
  | PyTuple
  | PySet
  | PyDict
  | PyGlobal
  | PyObject
  | StorageRef
  | TensorRef;

/** Short description of a value for error messages (never its whole content). */
export function describe(v: PyValue | undefined): string {
  if (v === undefined) return "nothing";
  if (v === null) return "None";
  if (typeof v === "string") return `str ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return `${typeof v} ${String(v)}`;
  if (v instanceof Uint8Array) return `bytes[${v.length}]`;
  if (Array.isArray(v)) return `list[${v.length}]`;
  if (v instanceof PyTuple) return `tuple[${v.items.length}]`;
  if (v instanceof PySet) return v.frozen ? "frozenset" : "set";
  if (v instanceof PyDict) return v.cls ? `${v.cls.qualified} instance` : "dict";
  if (v instanceof PyGlobal) return `global ${v.qualified}`;
  if (v instanceof PyObject) return `${v.cls.qualified} instance`;
  if (v instanceof StorageRef) return `storage ${v.key}`;
  if (v instanceof TensorRef) return "tensor";
  return "unknown value";
}
