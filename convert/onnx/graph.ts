/**
 * A small ONNX graph builder: values are names (strings), ops append nodes, weights become initializers that are
 * written inline or to an external data file. Model definitions (`encoder.ts`, `decoder.ts`, ...) use it so that
 * they read like the architecture, one function per block.
 *
 * Precision: a builder has a compute dtype (`float32` or `float16`). `weight()` and `scalar()` store float data in
 * that dtype, so the same model function builds the fp32 and the fp16 graph; parts that must stay fp32 (the FSQ bound
 * and rounding) use `weightF32()` / `scalarF32()` and explicit `cast()`s at their edges.
 */
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { ATTR_TYPE, ModelProto, ONNX_DTYPE, type OnnxDType } from "./proto.ts";
import { toFloat16Bits } from "../dtype_cast.ts";
import { externalDataFileName } from "./contract.ts";
import { Xcodec2Error } from "../../common/errors.ts";
import { kitVersion } from "../../common/kit_version.ts";
import { claimTempPath } from "../../common/temp_files.ts";

export type Dim = number | string;
export type FloatDType = "float32" | "float16";

/** Marks a number attribute as FLOAT (plain JS numbers are written as INT when integral). */
export class AttrFloat {
  constructor(readonly value: number) {}
}
export class AttrFloats {
  constructor(readonly value: number[]) {}
}
/** A graph-valued attribute: the body of a Scan, Loop or If (see `GraphBuilder.body`). */
export class AttrGraph {
  constructor(readonly body: GraphBuilder) {}
}
export const float = (v: number) => new AttrFloat(v);
export const floats = (v: number[]) => new AttrFloats(v);
export type Attr = number | number[] | string | AttrFloat | AttrFloats | AttrGraph;

type TypedData = Float32Array | Uint16Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Float64Array;

interface Initializer {
  name: string;
  dtype: OnnxDType;
  dims: number[];
  byteLength: number;
  /** bytes now, or a loader called once at save time (keeps large weights out of memory until written) */
  data: Uint8Array | (() => Promise<Uint8Array>);
}

export interface NodeDef {
  opType: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs: Record<string, Attr>;
  domain?: string;
}

const BYTES: Record<OnnxDType, number> = {
  float32: 4,
  uint8: 1,
  int8: 1,
  int32: 4,
  int64: 8,
  bool: 1,
  float16: 2,
  float64: 8,
};

function asBytes(d: TypedData): Uint8Array {
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

export interface SaveOptions {
  /** initializers of at least this many bytes go to `<model>_data` (default 1024); 0 = everything external */
  externalThreshold?: number;
  /** never write external data (throws past protobuf's 2 GiB limit) */
  inline?: boolean;
  metadata?: Record<string, string>;
}

export class GraphError extends Xcodec2Error {}

/** What a model's graphs share: one initializer table, one constant cache, one node counter (unique names). */
interface ModelState {
  inits: Map<string, Initializer>;
  constCache: Map<string, string>;
  counter: number;
  domains: Set<string>;
}

export interface ValueDecl {
  name: string;
  dtype: OnnxDType;
  dims: Dim[] | null;
}

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly inputs: { name: string; dtype: OnnxDType; dims: Dim[] }[] = [];
  readonly outputs: ValueDecl[] = [];
  private scopes: string[] = [];
  private readonly model: ModelState;
  /**
   * Set in the `int8` graphs: linear layers at least this large both ways get int8 weights (`layers.ts`
   * `weightMatMul`; `quantize.ts` INT8_MIN_DIM). A body graph inherits it from the builder it was made from.
   */
  int8MinDim: number | undefined;
  /** operator domains besides the default one that nodes use (each gets an opset import) */
  private get domains(): Set<string> {
    return this.model.domains;
  }

  constructor(
    readonly name: string,
    readonly dtype: FloatDType = "float32",
    readonly opset = 17,
    parent?: GraphBuilder,
  ) {
    this.model = parent?.model ?? { inits: new Map(), constCache: new Map(), counter: 0, domains: new Set() };
    if (parent) {
      this.scopes = [...parent.scopes];
      this.int8MinDim = parent.int8MinDim;
    }
  }

  /** The model's initializers (a body graph shares its model's: it reads them as outer-scope values). */
  get inits(): Map<string, Initializer> {
    return this.model.inits;
  }

  /**
   * A body graph (Scan / Loop / If attribute) with the given inputs; `fn` builds it on a builder that shares this
   * model's initializers and constants (read from the enclosing scope, as ONNX allows) and returns its outputs.
   */
  body(
    name: string,
    inputs: { dtype: OnnxDType; dims: Dim[] }[],
    fn: (b: GraphBuilder, inputs: string[]) => { value: string; dtype: OnnxDType; dims: Dim[] | null }[],
  ): AttrGraph {
    const b = new GraphBuilder(name, this.dtype, this.opset, this);
    const names = inputs.map((inp, i) => b.input(`${b.fresh(`${name}_in${i}`)}`, inp.dtype, inp.dims));
    for (const [i, o] of fn(b, names).entries()) {
      // a value made inside the body is its output under its own name (an Identity would cost a copy in onnxruntime)
      const own = b.nodes.some((n) => n.outputs.includes(o.value));
      b.output(own ? o.value : b.fresh(`${name}_out${i}`), o.value, o.dtype, o.dims);
    }
    return new AttrGraph(b);
  }

  /** The ONNX enum value of the compute dtype, for Cast `to` attributes. */
  get floatEnum(): number {
    return ONNX_DTYPE[this.dtype];
  }

  /** Every node of the graph and, depth first, of the body graphs its nodes carry. */
  allNodes(): NodeDef[] {
    return this.nodes.flatMap((n) => [
      n,
      ...Object.values(n.attrs).flatMap((a) => (a instanceof AttrGraph ? a.body.allNodes() : [])),
    ]);
  }

  /** Run `fn` with node names prefixed by `name` (readable graphs in Netron, readable errors from onnxruntime). */
  scope<T>(name: string, fn: () => T): T {
    this.scopes.push(name);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  /**
   * Run `fn` with node names prefixed by exactly `path`, whatever the enclosing scopes: a module's place in the model
   * tree (`acoustic_encoder/block/0/conv1`), set by `ModuleCursor.scope`.
   */
  scopeAt<T>(path: readonly string[], fn: () => T): T {
    const saved = this.scopes;
    this.scopes = [...path];
    try {
      return fn();
    } finally {
      this.scopes = saved;
    }
  }

  private fresh(hint: string): string {
    const prefix = this.scopes.length ? this.scopes.join("/") + "/" : "";
    return `${prefix}${hint}_${this.model.counter++}`;
  }

  input(name: string, dtype: OnnxDType, dims: Dim[]): string {
    this.inputs.push({ name, dtype, dims });
    return name;
  }

  /** Declare `value` as a graph output called `name` (adds an Identity when the names differ). */
  output(name: string, value: string, dtype: OnnxDType, dims: Dim[] | null): void {
    if (value !== name) this.node("Identity", [value], {}, [name]);
    this.outputs.push({ name, dtype, dims });
  }

  /** Append a node; returns its single output name. */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0];
  }

  /** Append a node with `n` outputs. */
  opN(opType: string, inputs: string[], n: number, attrs: Record<string, Attr> = {}): string[] {
    const name = this.fresh(opType);
    const outputs = Array.from({ length: n }, (_, i) => (n === 1 ? name : `${name}:${i}`));
    this.nodes.push({ opType, inputs, outputs, name, attrs });
    return outputs;
  }

  /** Append a node of another operator domain (`com.microsoft` contrib ops); returns its single output name. */
  opDomain(domain: string, opType: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    const [out] = this.opN(opType, inputs, 1, attrs);
    this.nodes[this.nodes.length - 1].domain = domain;
    this.domains.add(domain);
    return out;
  }

  private node(opType: string, inputs: string[], attrs: Record<string, Attr>, outputs: string[]): void {
    this.nodes.push({ opType, inputs, outputs, name: this.fresh(opType), attrs });
  }

  /** Register an initializer with an explicit ONNX dtype. Names are unique. */
  initializer(name: string, dtype: OnnxDType, dims: number[], data: TypedData | (() => Promise<Uint8Array>)): string {
    if (this.inits.has(name)) throw new GraphError(`initializer ${name} defined twice`);
    const numel = dims.reduce((a, b) => a * b, 1);
    const byteLength = numel * BYTES[dtype];
    let stored: Initializer["data"];
    if (typeof data === "function") stored = data;
    else {
      const bytes = asBytes(data);
      if (bytes.byteLength !== byteLength) {
        throw new GraphError(
          `initializer ${name}: ${bytes.byteLength} bytes for ${dtype}[${dims.join(",")}] (${byteLength} expected)`,
        );
      }
      stored = bytes;
    }
    this.inits.set(name, { name, dtype, dims, byteLength, data: stored });
    return name;
  }

  /**
   * A float weight stored in the compute dtype. `data` may be a function: it is then called only when the graph is
   * saved, and its result is dropped once written, so building a graph never holds its weights (full-size encoder:
   * 1.77 GB fp32) and an export's peak memory is about its largest tensor, not its whole model.
   */
  weight(name: string, data: Float32Array | (() => Float32Array), dims: number[]): string {
    const dtype = this.dtype === "float16" ? "float16" : "float32";
    const encode = (d: Float32Array) => (dtype === "float16" ? toFloat16Bits(d) : d);
    return typeof data === "function"
      ? this.initializer(name, dtype, dims, async () => asBytes(encode(data())))
      : this.initializer(name, dtype, dims, encode(data));
  }

  /** A float weight that stays fp32 in every precision. */
  weightF32(name: string, data: Float32Array, dims: number[]): string {
    return this.initializer(name, "float32", dims, data);
  }

  /** A small constant, deduplicated by value. */
  constant(values: ArrayLike<number | bigint>, dims: number[], dtype: OnnxDType): string {
    const key = `${dtype}|${dims.join(",")}|${Array.from(values as ArrayLike<number>).join(",")}`;
    const hit = this.model.constCache.get(key);
    if (hit) return hit;
    let data: TypedData;
    switch (dtype) {
      case "float32":
        data = Float32Array.from(values as ArrayLike<number>);
        break;
      case "float16":
        data = toFloat16Bits(Float32Array.from(values as ArrayLike<number>));
        break;
      case "float64":
        data = Float64Array.from(values as ArrayLike<number>);
        break;
      case "int64":
        data = BigInt64Array.from(Array.from(values as ArrayLike<number | bigint>, (v) => BigInt(v)));
        break;
      case "int32":
        data = Int32Array.from(values as ArrayLike<number>);
        break;
      case "bool":
      case "uint8":
        data = Uint8Array.from(values as ArrayLike<number>);
        break;
      case "int8":
        data = Int8Array.from(values as ArrayLike<number>);
        break;
      default:
        throw new GraphError(`constant of dtype ${dtype} not supported`);
    }
    const name = this.initializer(`const_${this.model.constCache.size}`, dtype, dims, data);
    this.model.constCache.set(key, name);
    return name;
  }

  /** Scalar in the compute dtype. */
  scalar(v: number): string {
    return this.constant([v], [], this.dtype);
  }
  scalarF32(v: number): string {
    return this.constant([v], [], "float32");
  }
  /** int64 1-D constant (shapes, axes, indices). */
  ints(v: number[]): string {
    return this.constant(v, [v.length], "int64");
  }
  int(v: number): string {
    return this.constant([v], [], "int64");
  }

  // ---- common ops, named like ONNX's ----
  add(a: string, b: string) {
    return this.op("Add", [a, b]);
  }
  sub(a: string, b: string) {
    return this.op("Sub", [a, b]);
  }
  mul(a: string, b: string) {
    return this.op("Mul", [a, b]);
  }
  div(a: string, b: string) {
    return this.op("Div", [a, b]);
  }
  matmul(a: string, b: string) {
    return this.op("MatMul", [a, b]);
  }
  relu(x: string) {
    return this.op("Relu", [x]);
  }
  sigmoid(x: string) {
    return this.op("Sigmoid", [x]);
  }
  tanh(x: string) {
    return this.op("Tanh", [x]);
  }
  sqrt(x: string) {
    return this.op("Sqrt", [x]);
  }
  exp(x: string) {
    return this.op("Exp", [x]);
  }
  neg(x: string) {
    return this.op("Neg", [x]);
  }
  sin(x: string) {
    return this.op("Sin", [x]);
  }
  /** x·sigmoid(x) */
  silu(x: string) {
    return this.mul(x, this.sigmoid(x));
  }
  transpose(x: string, perm: number[]) {
    return this.op("Transpose", [x], { perm });
  }
  reshape(x: string, shape: number[] | string) {
    return this.op("Reshape", [x, typeof shape === "string" ? shape : this.ints(shape)]);
  }
  unsqueeze(x: string, axes: number[]) {
    return this.op("Unsqueeze", [x, this.ints(axes)]);
  }
  squeeze(x: string, axes: number[]) {
    return this.op("Squeeze", [x, this.ints(axes)]);
  }
  concat(xs: string[], axis: number) {
    return this.op("Concat", xs, { axis });
  }
  cast(x: string, to: OnnxDType) {
    return this.op("Cast", [x], { to: ONNX_DTYPE[to] });
  }
  /** Cast to the compute dtype (no node in fp32 graphs when `from` is float32). */
  toCompute(x: string, from: OnnxDType = "float32") {
    return from === this.dtype ? x : this.cast(x, this.dtype);
  }
  shape(x: string, start?: number, end?: number) {
    const attrs: Record<string, Attr> = {};
    if (start !== undefined) attrs.start = start;
    if (end !== undefined) attrs.end = end;
    return this.op("Shape", [x], attrs);
  }
  /** Slice along given axes with int constant starts/ends (use `sliceDyn` for computed bounds). */
  slice(x: string, starts: number[], ends: number[], axes: number[], steps?: number[]) {
    const ins = [x, this.ints(starts), this.ints(ends), this.ints(axes)];
    if (steps) ins.push(this.ints(steps));
    return this.op("Slice", ins);
  }
  sliceDyn(x: string, starts: string, ends: string, axes: number[], steps?: number[]) {
    const ins = [x, starts, ends, this.ints(axes)];
    if (steps) ins.push(this.ints(steps));
    return this.op("Slice", ins);
  }
  gather(x: string, idx: string, axis: number) {
    return this.op("Gather", [x, idx], { axis });
  }
  where(c: string, a: string, b: string) {
    return this.op("Where", [c, a, b]);
  }
  reduceMean(x: string, axes: number[], keepdims = true) {
    return this.op("ReduceMean", [x], { axes, keepdims: keepdims ? 1 : 0 });
  }
  reduceSum(x: string, axes: number[], keepdims = true) {
    return this.op("ReduceSum", [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 });
  }
  softmax(x: string, axis = -1) {
    return this.op("Softmax", [x], { axis });
  }

  // ---- serialisation ----

  private attrProto(name: string, v: Attr): Record<string, unknown> {
    if (v instanceof AttrFloat) return { name, type: ATTR_TYPE.FLOAT, f: v.value };
    if (v instanceof AttrFloats) return { name, type: ATTR_TYPE.FLOATS, floats: v.value };
    if (v instanceof AttrGraph) return { name, type: ATTR_TYPE.GRAPH, g: v.body.graphProto([]) };
    if (typeof v === "string") return { name, type: ATTR_TYPE.STRING, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: ATTR_TYPE.INTS, ints: v };
    if (!Number.isInteger(v)) throw new GraphError(`attribute ${name}=${v}: use float() for FLOAT attributes`);
    return { name, type: ATTR_TYPE.INT, i: v };
  }

  /** `dims: null` declares a value of unknown rank (debug outputs). */
  private valueInfo(v: ValueDecl) {
    const shape = v.dims && { dim: v.dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) };
    return { name: v.name, type: { tensorType: { elemType: ONNX_DTYPE[v.dtype], ...(shape ? { shape } : {}) } } };
  }

  /** Check that every node input is defined before use (catches typos in model code at export, not at load). */
  validate(outer: ReadonlySet<string> = new Set(this.inits.keys())): void {
    const known = new Set<string>([...outer, ...this.inputs.map((i) => i.name), ""]);
    for (const n of this.nodes) {
      for (const i of n.inputs) {
        if (!known.has(i)) throw new GraphError(`node ${n.name} (${n.opType}) reads undefined value "${i}"`);
      }
      // a body sees every value defined before its node (outer scope)
      for (const a of Object.values(n.attrs)) if (a instanceof AttrGraph) a.body.validate(known);
      for (const o of n.outputs) known.add(o);
    }
    for (const o of this.outputs) {
      if (!known.has(o.name)) throw new GraphError(`graph output ${o.name} is never produced`);
    }
  }

  /** This graph as a GraphProto object (`initializer`: the model's, for the main graph; none for a body). */
  private graphProto(initializer: Record<string, unknown>[]): Record<string, unknown> {
    return {
      name: this.name,
      node: this.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        domain: n.domain ?? "",
        attribute: Object.entries(n.attrs).map(([k, v]) => this.attrProto(k, v)),
      })),
      initializer,
      input: this.inputs.map((i) => this.valueInfo(i)),
      output: this.outputs.map((o) => this.valueInfo(o)),
    };
  }

  /**
   * Write `<path>` (and `<path>_data` for external initializers) atomically: both go to temporary names first and
   * are renamed only once complete. Returns the byte sizes written.
   */
  async save(path: string, opts: SaveOptions = {}): Promise<{ modelBytes: number; dataBytes: number }> {
    this.validate();
    const threshold = opts.inline ? Infinity : opts.externalThreshold ?? 1024;
    const dataName = externalDataFileName(basename(path));
    const dataPath = join(dirname(path), dataName);
    await mkdir(dirname(path), { recursive: true });
    const tmpModel = await claimTempPath(path);
    const tmpData = await claimTempPath(dataPath);
    let dataBytes = 0;
    const initProtos: Record<string, unknown>[] = [];
    const external = [...this.inits.values()].filter((i) => i.byteLength >= threshold);
    try {
      if (external.length) {
        const fh = await open(tmpData, "w");
        try {
          for (const init of external) {
            // 4 KiB alignment for large tensors lets onnxruntime map them; 64 B keeps small ones vector-aligned.
            const align = init.byteLength >= 1 << 20 ? 4096 : 64;
            const offset = Math.ceil(dataBytes / align) * align;
            const bytes = typeof init.data === "function" ? await init.data() : init.data;
            if (bytes.byteLength !== init.byteLength) {
              throw new GraphError(
                `initializer ${init.name}: loader gave ${bytes.byteLength} bytes, ${init.byteLength} expected`,
              );
            }
            await fh.write(bytes, 0, bytes.byteLength, offset);
            dataBytes = offset + bytes.byteLength;
            initProtos.push({
              name: init.name,
              dataType: ONNX_DTYPE[init.dtype],
              dims: init.dims,
              dataLocation: 1,
              externalData: [
                { key: "location", value: dataName },
                { key: "offset", value: String(offset) },
                { key: "length", value: String(bytes.byteLength) },
              ],
            });
          }
        } finally {
          await fh.close();
        }
      }
      let inlineBytes = 0;
      for (const init of this.inits.values()) {
        if (init.byteLength >= threshold) continue;
        const bytes = typeof init.data === "function" ? await init.data() : init.data;
        inlineBytes += bytes.byteLength;
        initProtos.push({ name: init.name, dataType: ONNX_DTYPE[init.dtype], dims: init.dims, rawData: bytes });
      }
      if (inlineBytes > 2 ** 31 - 2 ** 24) {
        throw new GraphError(
          `${path}: ${inlineBytes} bytes of inline weights pass protobuf's 2 GiB limit; use external data`,
        );
      }
      const model = {
        irVersion: 8,
        producerName: "xcodec2-kit",
        producerVersion: await kitVersion(),
        opsetImport: [
          { domain: "", version: this.opset },
          ...[...this.domains].map((domain) => ({ domain, version: 1 })),
        ],
        metadataProps: Object.entries(opts.metadata ?? {}).map(([key, value]) => ({ key, value })),
        graph: this.graphProto(initProtos),
      };
      const err = ModelProto.verify(model);
      if (err) throw new GraphError(`${path}: invalid model proto: ${err}`);
      const bytes = ModelProto.encode(ModelProto.fromObject(model)).finish();
      const fh = await open(tmpModel, "w");
      try {
        await fh.write(bytes, 0, bytes.byteLength, 0);
      } finally {
        await fh.close();
      }
      if (external.length) await rename(tmpData, dataPath);
      else await rm(dataPath, { force: true });
      await rename(tmpModel, path);
      return { modelBytes: bytes.byteLength, dataBytes };
    } catch (e) {
      await rm(tmpModel, { force: true });
      await rm(tmpData, { force: true });
      throw e;
    }
  }
}
