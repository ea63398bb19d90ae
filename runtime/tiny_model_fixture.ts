/**
 * Test fixture: a tiny ONNX graph `y = x · W + b` (MatMul + Add, dynamic batch axis) encoded straight from the
 * project's ONNX schema (convert/onnx/proto.ts) as bytes, so the device / session tests need no model file.
 * Used only by tests; the weights are deterministic so CPU and WebGPU outputs can be compared.
 */
import { ModelProto } from "../convert/onnx/proto.ts";

const FLOAT = 1;

function floatTensor(name: string, dims: number[], values: Float32Array) {
  const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return { name, dims, dataType: FLOAT, rawData: bytes };
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Deterministic values in [-1, 1) (a small LCG), so both providers see the same weights and inputs. */
export function pseudoRandom(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export interface FixtureNode {
  opType: string;
  input: string[];
  output: string[];
}

export interface FixtureGraph {
  nodes: FixtureNode[];
  initializers: { name: string; dims: number[]; values: Float32Array }[];
  inputs: { name: string; dims: (number | string)[] }[];
  outputs: { name: string; dims: (number | string)[] }[];
  /**
   * When set, initializer bytes go to this file (relative to the model's folder) as ONNX external data and the
   * returned `externalData` holds its contents; the model itself then only references it.
   */
  externalDataFile?: string;
}

/** Serialise a float32 graph (opset 17, IR 8). */
export function encodeModel(graph: FixtureGraph): { model: Uint8Array; externalData?: Uint8Array } {
  const Model = ModelProto;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const initializer = graph.initializers.map(({ name, dims, values }) => {
    if (graph.externalDataFile === undefined) return floatTensor(name, dims, values);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    const entry = {
      name,
      dims,
      dataType: FLOAT,
      dataLocation: 1, // EXTERNAL
      externalData: [
        { key: "location", value: graph.externalDataFile },
        { key: "offset", value: String(offset) },
        { key: "length", value: String(bytes.byteLength) },
      ],
    };
    chunks.push(bytes);
    offset += bytes.byteLength;
    return entry;
  });
  const model = {
    irVersion: 8,
    opsetImport: [{ domain: "", version: 17 }],
    graph: {
      name: "fixture",
      node: graph.nodes.map((n, i) => ({ ...n, name: `${n.opType.toLowerCase()}_${i}` })),
      initializer,
      input: graph.inputs.map((v) => valueInfo(v.name, v.dims)),
      output: graph.outputs.map((v) => valueInfo(v.name, v.dims)),
    },
  };
  // protobufjs hands back a Node Buffer where one exists; tests compare bytes, so return a plain Uint8Array.
  const encoded = new Uint8Array(Model.encode(Model.fromObject(model)).finish());
  if (graph.externalDataFile === undefined) return { model: encoded };
  const externalData = new Uint8Array(offset);
  let at = 0;
  for (const c of chunks) {
    externalData.set(c, at);
    at += c.byteLength;
  }
  return { model: encoded, externalData };
}

/** Graph of `y = x · W + b`: input `x` [batch, inDim] float32 → output `y` [batch, outDim]. */
export function tinyMatMulAddGraph(inDim = 64, outDim = 32): FixtureGraph {
  return {
    nodes: [
      { opType: "MatMul", input: ["x", "W"], output: ["xw"] },
      { opType: "Add", input: ["xw", "b"], output: ["y"] },
    ],
    initializers: [
      { name: "W", dims: [inDim, outDim], values: pseudoRandom(inDim * outDim, 1) },
      { name: "b", dims: [outDim], values: pseudoRandom(outDim, 2) },
    ],
    inputs: [{ name: "x", dims: ["batch", inDim] }],
    outputs: [{ name: "y", dims: ["batch", outDim] }],
  };
}

/** Serialised tiny MatMul + Add model (weights inline). */
export function tinyMatMulAddModel(inDim = 64, outDim = 32): Uint8Array {
  return encodeModel(tinyMatMulAddGraph(inDim, outDim)).model;
}

/**
 * A `layers`-deep MatMul + Relu stack of width `width` with a dynamic batch axis: big enough intermediates that
 * allocator settings show up in the process's peak RSS.
 */
export function mlpGraph(width: number, layers: number): FixtureGraph {
  const g: FixtureGraph = {
    nodes: [],
    initializers: [],
    inputs: [{ name: "x", dims: ["batch", width] }],
    outputs: [{ name: "y", dims: ["batch", width] }],
  };
  let prev = "x";
  for (let i = 0; i < layers; i++) {
    const w = `W${i}`;
    g.initializers.push({
      name: w,
      dims: [width, width],
      values: pseudoRandom(width * width, 10 + i).map((v) => v / Math.sqrt(width)),
    });
    const out = i === layers - 1 ? "y" : `h${i}`;
    g.nodes.push({ opType: "MatMul", input: [prev, w], output: [`m${i}`] });
    g.nodes.push({ opType: "Relu", input: [`m${i}`], output: [out] });
    prev = out;
  }
  return g;
}
