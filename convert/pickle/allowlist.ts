/**
 * The only globals a checkpoint may name, and what each may be used for. A state dict needs tensor rebuild
 * functions, storage types and dtypes, and OrderedDict; a Lightning checkpoint adds its plain containers (AttributeDict,
 * omegaconf's DictConfig for Hydra hyper-parameters, argparse.Namespace) and the type objects those record.
 *
 * Every entry is implemented by us on inert values: "calling" `_rebuild_tensor_v2` builds a TensorRef, "calling"
 * `OrderedDict` builds a PyDict. No name from the file is ever looked up in, or run by, any interpreter.
 */

import type { DType } from "../tensor_source.ts";
import { PickleError } from "./errors.ts";
import { describe, PyDict, PyGlobal, PySet, PyTuple, type PyValue, StorageRef, TensorRef } from "./values.ts";

/** torch element type: our dtype name (undefined where safetensors has none), torch's name, bytes per element */
export interface ElementType {
  dtype: DType | undefined;
  torchName: string;
  size: number;
}

export type Allowed =
  /** a storage class, second field of a storage persistent id */
  | { kind: "storage"; element: ElementType }
  /** a torch.dtype object (`torch.float32` …) */
  | { kind: "dtype"; element: ElementType }
  /** a function REDUCE may apply, implemented here on inert values */
  | { kind: "call"; call: (args: PyValue[], self: PyGlobal) => PyValue }
  /** a plain-data class NEWOBJ may instantiate and BUILD may fill; `dictLike` for dict subclasses */
  | { kind: "class"; dictLike: boolean }
  /** a type object that may only appear as a value (omegaconf metadata records `dict`, `typing.Any`) */
  | { kind: "type" };

const el = (dtype: DType | undefined, torchName: string, size: number): ElementType => ({ dtype, torchName, size });

/** torch storage class name (module `torch`, also `torch.cuda` in old files) → element type. */
const STORAGE_TYPES: Record<string, ElementType> = {
  FloatStorage: el("F32", "float32", 4),
  DoubleStorage: el("F64", "float64", 8),
  HalfStorage: el("F16", "float16", 2),
  BFloat16Storage: el("BF16", "bfloat16", 2),
  LongStorage: el("I64", "int64", 8),
  IntStorage: el("I32", "int32", 4),
  ShortStorage: el("I16", "int16", 2),
  CharStorage: el("I8", "int8", 1),
  ByteStorage: el("U8", "uint8", 1),
  BoolStorage: el("BOOL", "bool", 1),
  ComplexFloatStorage: el(undefined, "complex64", 8),
  ComplexDoubleStorage: el(undefined, "complex128", 16),
  QInt8Storage: el(undefined, "qint8", 1),
  QUInt8Storage: el(undefined, "quint8", 1),
  QInt32Storage: el(undefined, "qint32", 4),
};

/** `torch.<name>` dtype objects (pickled by their canonical name) → element type. */
const DTYPES: Record<string, ElementType> = {
  float32: STORAGE_TYPES.FloatStorage,
  float64: STORAGE_TYPES.DoubleStorage,
  float16: STORAGE_TYPES.HalfStorage,
  bfloat16: STORAGE_TYPES.BFloat16Storage,
  int64: STORAGE_TYPES.LongStorage,
  int32: STORAGE_TYPES.IntStorage,
  int16: STORAGE_TYPES.ShortStorage,
  int8: STORAGE_TYPES.CharStorage,
  uint8: STORAGE_TYPES.ByteStorage,
  bool: STORAGE_TYPES.BoolStorage,
  float8_e4m3fn: el("F8_E4M3", "float8_e4m3fn", 1),
  float8_e5m2: el("F8_E5M2", "float8_e5m2", 1),
  complex64: STORAGE_TYPES.ComplexFloatStorage,
  complex128: STORAGE_TYPES.ComplexDoubleStorage,
  uint16: el(undefined, "uint16", 2),
  uint32: el(undefined, "uint32", 4),
  uint64: el(undefined, "uint64", 8),
};

/** torch.UntypedStorage holds raw bytes; torch.load views it as uint8. */
const UNTYPED: ElementType = STORAGE_TYPES.ByteStorage;

function fail(self: PyGlobal, msg: string): never {
  throw new PickleError(`${self.qualified}: ${msg}`);
}

function int(v: PyValue, self: PyGlobal, what: string): number {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  fail(self, `${what} must be a non-negative integer, got ${describe(v)}`);
}

function intTuple(v: PyValue, self: PyGlobal, what: string): number[] {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) fail(self, `${what} must be a tuple, got ${describe(v)}`);
  const items = v instanceof PyTuple ? v.items : v;
  return items.map((x, i) => int(x, self, `${what}[${i}]`));
}

function rebuildTensor(args: PyValue[], self: PyGlobal, min: number, max: number): TensorRef {
  if (args.length < min || args.length > max) fail(self, `expected ${min}..${max} arguments, got ${args.length}`);
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof StorageRef)) fail(self, `first argument must be a storage, got ${describe(storage)}`);
  const shape = intTuple(size, self, "size");
  const strides = intTuple(stride, self, "stride");
  if (shape.length !== strides.length) fail(self, `size has ${shape.length} dims but stride has ${strides.length}`);
  return new TensorRef(storage, int(offset, self, "storage_offset"), shape, strides);
}

function rebuildParameter(args: PyValue[], self: PyGlobal, min: number, max: number): TensorRef {
  if (args.length < min || args.length > max) fail(self, `expected ${min}..${max} arguments, got ${args.length}`);
  if (!(args[0] instanceof TensorRef)) fail(self, `data must be a tensor, got ${describe(args[0])}`);
  return args[0];
}

function makeDict(args: PyValue[], self: PyGlobal): PyDict {
  const d = new PyDict(self);
  const init = args[0];
  if (self.name === "OrderedDict" && init !== undefined) {
    // OrderedDict([(k, v), ...]) — the form older picklers used
    const pairs = init instanceof PyTuple ? init.items : Array.isArray(init) ? init : fail(self, "bad initialiser");
    for (const p of pairs) {
      const kv = p instanceof PyTuple ? p.items : Array.isArray(p) ? p : [];
      if (kv.length !== 2) fail(self, `initialiser item must be a (key, value) pair, got ${describe(p)}`);
      d.map.set(kv[0], kv[1]);
    }
  }
  if (args.length > 1) fail(self, `expected at most 1 argument, got ${args.length}`);
  return d;
}

function makeSet(args: PyValue[], self: PyGlobal): PySet {
  const init = args[0] ?? [];
  const items = init instanceof PyTuple
    ? init.items
    : Array.isArray(init)
    ? init
    : fail(self, "argument must be a list");
  return new PySet([...items], self.name === "frozenset");
}

function encode(args: PyValue[], self: PyGlobal): Uint8Array {
  // protocol 2 pickles bytes as _codecs.encode(text, "latin1")
  const [text, encoding] = args;
  if (typeof text !== "string") fail(self, `first argument must be str, got ${describe(text)}`);
  if (encoding === "latin1" || encoding === "latin-1") {
    const out = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 255) fail(self, "latin1 text has a character above U+00FF");
      out[i] = c;
    }
    return out;
  }
  if (encoding === "utf-8" || encoding === "utf8") return new TextEncoder().encode(text);
  fail(self, `unsupported encoding ${describe(encoding)}`);
}

function device(args: PyValue[], self: PyGlobal): string {
  if (typeof args[0] !== "string") fail(self, `device type must be str, got ${describe(args[0])}`);
  return args.length > 1 ? `${args[0]}:${String(args[1])}` : args[0];
}

const CALLS: Record<string, (args: PyValue[], self: PyGlobal) => PyValue> = {
  "torch._utils._rebuild_tensor_v2": (a, s) => rebuildTensor(a, s, 6, 7),
  "torch._utils._rebuild_tensor": (a, s) => rebuildTensor(a, s, 4, 4),
  "torch._utils._rebuild_parameter": (a, s) => rebuildParameter(a, s, 3, 3),
  "torch._utils._rebuild_parameter_with_state": (a, s) => rebuildParameter(a, s, 4, 4),
  "collections.OrderedDict": makeDict,
  "collections.defaultdict": makeDict,
  "builtins.set": makeSet,
  "builtins.frozenset": makeSet,
  "_codecs.encode": encode,
  "torch.device": device,
};

/** Lightning / Hydra plain containers; dictLike ones are dict subclasses (their items come through SETITEMS). */
const CLASSES: Record<string, boolean> = {
  "pytorch_lightning.utilities.parsing.AttributeDict": true,
  "lightning.pytorch.utilities.parsing.AttributeDict": true,
  "lightning_fabric.utilities.data.AttributeDict": true,
  "lightning.fabric.utilities.data.AttributeDict": true,
  "argparse.Namespace": false,
  "omegaconf.dictconfig.DictConfig": false,
  "omegaconf.listconfig.ListConfig": false,
  "omegaconf.base.ContainerMetadata": false,
  "omegaconf.base.Metadata": false,
  "omegaconf.nodes.AnyNode": false,
  "omegaconf.nodes.StringNode": false,
  "omegaconf.nodes.IntegerNode": false,
  "omegaconf.nodes.FloatNode": false,
  "omegaconf.nodes.BooleanNode": false,
  "omegaconf.nodes.BytesNode": false,
  "omegaconf.nodes.PathNode": false,
};

/** Type objects that may appear as plain values (omegaconf's metadata records element and key types). */
const TYPES = new Set([
  "builtins.dict",
  "builtins.list",
  "builtins.tuple",
  "builtins.str",
  "builtins.int",
  "builtins.float",
  "builtins.bool",
  "builtins.bytes",
  "builtins.object",
  "typing.Any",
]);

/** What `module.name` may be used for, or undefined when it is not allowed at all. */
export function lookupGlobal(module: string, name: string): Allowed | undefined {
  const q = `${module}.${name}`;
  if (Object.hasOwn(CALLS, q)) return { kind: "call", call: CALLS[q] };
  if (Object.hasOwn(CLASSES, q)) return { kind: "class", dictLike: CLASSES[q] };
  if (TYPES.has(q)) return { kind: "type" };
  if (module === "torch" || module === "torch.cuda") {
    if (Object.hasOwn(STORAGE_TYPES, name)) return { kind: "storage", element: STORAGE_TYPES[name] };
  }
  if ((module === "torch" || module === "torch.storage") && name === "UntypedStorage") {
    return { kind: "storage", element: UNTYPED };
  }
  if (module === "torch" && Object.hasOwn(DTYPES, name)) return { kind: "dtype", element: DTYPES[name] };
  return undefined;
}
