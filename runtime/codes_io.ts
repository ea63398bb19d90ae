/**
 * Code files, the formats people exchange XCodec2 tokens in:
 *   - `.npy`: one int32 1-D array per audio file (what the original large-scale `inference_save_code.py` writes);
 *   - `.jsonl`: one `{"name", "samples", "codes"}` object per line;
 *   - `.safetensors`: `<i>.codes` I32 [K] and `<i>.samples` I64 [1] per item, names in `__metadata__.names`;
 *   - `.parquet` (read only): one row per item with `__key__` and `codes` (a list of integers), as
 *     `xcodec2 encode-dataset` writes its shards (dataset/parquet.ts) and NeuCodec publishes its Emilia tokens;
 *     `duration_s`, where present, gives the source length.
 * Readers check declared sizes before allocating and name the file and item in every error.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { openSafetensors, SAMPLE_RATE, writeSafetensors } from "../convert/mod.ts";
import { Xcodec2Error } from "../common/errors.ts";
import { claimTempPath } from "../common/temp_files.ts";

export class CodesFileError extends Xcodec2Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
  }
}

export interface CodeItem {
  name: string;
  codes: Int32Array; /** source length in samples, when known */
  samples?: number;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_CODES = 1 << 28; // 1.7 years of audio at 50 codes/s: anything larger is a corrupt header

export function encodeNpyInt32(codes: Int32Array): Uint8Array {
  let header = `{'descr': '<i4', 'fortran_order': False, 'shape': (${codes.length},), }`;
  // version 1.0: magic(6) + version(2) + u16 header length, total header block a multiple of 64, ending in \n
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += " ".repeat(pad === 64 ? 0 : pad) + "\n";
  const out = new Uint8Array(10 + header.length + codes.byteLength);
  out.set(NPY_MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(codes.buffer, codes.byteOffset, codes.byteLength), 10 + header.length);
  return out;
}

export function decodeNpyInt32(bytes: Uint8Array, file: string): Int32Array {
  if (bytes.length < 10 || NPY_MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new CodesFileError(file, "not a .npy file (bad magic)");
  }
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : major <= 3 && bytes.length >= 12 ? dv.getUint32(8, true) : -1;
  const start = major === 1 ? 10 : 12;
  if (hlen < 0 || start + hlen > bytes.length) {
    throw new CodesFileError(file, `unsupported .npy version ${major} or header past the end`);
  }
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new CodesFileError(file, "malformed .npy header");
  const dims = shapeText.split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new CodesFileError(file, `bad shape (${shapeText})`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (dims.filter((d) => d !== 1).length > 1) {
    throw new CodesFileError(file, `codes must be one sequence, got shape (${shapeText})`);
  }
  if (n > MAX_CODES) throw new CodesFileError(file, `declares ${n} codes, more than ${MAX_CODES}`);
  const width = { "<i4": 4, "<i8": 8, "<i2": 2, "<u2": 2, "|u1": 1 }[descr];
  if (!width) throw new CodesFileError(file, `dtype ${descr} is not an integer code type (<i4, <i8, <i2, <u2)`);
  const body = bytes.subarray(start + hlen);
  if (body.length !== n * width) {
    throw new CodesFileError(file, `data is ${body.length} bytes, shape (${shapeText}) × ${width} needs ${n * width}`);
  }
  const out = new Int32Array(n);
  const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  for (let i = 0; i < n; i++) {
    const v = width === 4
      ? bv.getInt32(i * 4, true)
      : width === 8
      ? Number(bv.getBigInt64(i * 8, true))
      : width === 2
      ? (descr === "<u2" ? bv.getUint16(i * 2, true) : bv.getInt16(i * 2, true))
      : bv.getUint8(i);
    if (!Number.isSafeInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
      throw new CodesFileError(file, `code ${i} (${v}) does not fit int32`);
    }
    out[i] = v;
  }
  return out;
}

async function writeAtomically(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = await claimTempPath(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

export async function writeNpy(path: string, codes: Int32Array): Promise<void> {
  await writeAtomically(path, encodeNpyInt32(codes));
}

export async function writeCodesFile(path: string, items: CodeItem[]): Promise<void> {
  if (path.endsWith(".jsonl")) {
    const lines = items.map((it) =>
      JSON.stringify({ name: it.name, samples: it.samples ?? null, codes: Array.from(it.codes) })
    );
    await writeAtomically(path, lines.join("\n") + "\n");
  } else if (path.endsWith(".safetensors")) {
    const tensors = items.flatMap((it, i) => [
      {
        name: `${i}.codes`,
        dtype: "I32" as const,
        shape: [it.codes.length],
        data: new Uint8Array(it.codes.buffer, it.codes.byteOffset, it.codes.byteLength),
      },
      {
        name: `${i}.samples`,
        dtype: "I64" as const,
        shape: [1],
        data: new Uint8Array(BigInt64Array.of(BigInt(it.samples ?? -1)).buffer),
      },
    ]);
    await writeSafetensors(path, tensors, {
      metadata: { names: JSON.stringify(items.map((it) => it.name)), format: "xcodec2-codes" },
    });
  } else if (path.endsWith(".npy")) {
    if (items.length !== 1) {
      throw new CodesFileError(
        path,
        `a .npy file holds one sequence, ${items.length} given (write to a folder instead)`,
      );
    }
    await writeNpy(path, items[0].codes);
  } else {
    throw new CodesFileError(path, "unknown codes format: use .npy, .jsonl or .safetensors");
  }
}

export async function readCodesFile(path: string): Promise<CodeItem[]> {
  if (path.endsWith(".npy")) {
    const name = path.split("/").pop()!.replace(/\.npy$/, "");
    return [{ name, codes: decodeNpyInt32(new Uint8Array(await readFile(path)), path) }];
  }
  if (path.endsWith(".jsonl")) {
    const text = await readFile(path, "utf8");
    return text.split("\n").filter((l) => l.trim()).map((line, i) => {
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        throw new CodesFileError(path, `line ${i + 1} is not JSON`);
      }
      if (typeof o !== "object" || o === null || Array.isArray(o)) {
        throw new CodesFileError(path, `line ${i + 1} is not a JSON object`);
      }
      const r = o as { name?: unknown; samples?: unknown; codes?: unknown };
      if (
        !Array.isArray(r.codes) || r.codes.length > MAX_CODES ||
        r.codes.some((c) => !Number.isInteger(c) || c < -(2 ** 31) || c >= 2 ** 31)
      ) {
        throw new CodesFileError(path, `line ${i + 1}: "codes" must be a list of integers`);
      }
      return {
        name: typeof r.name === "string" ? r.name : `item${i}`,
        codes: Int32Array.from(r.codes as number[]),
        samples: typeof r.samples === "number" ? r.samples : undefined,
      };
    });
  }
  if (path.endsWith(".safetensors")) {
    const src = await openSafetensors(path);
    try {
      let names: string[] = [];
      try {
        names = JSON.parse(src.metadata.names ?? "[]");
      } catch {
        throw new CodesFileError(path, "__metadata__.names is not a JSON list");
      }
      const items: CodeItem[] = [];
      for (let i = 0; src.info(`${i}.codes`); i++) {
        const info = src.info(`${i}.codes`)!;
        if (info.dtype !== "I32" || info.shape.length !== 1) {
          throw new CodesFileError(path, `tensor ${i}.codes must be I32 [K], got ${info.dtype} [${info.shape}]`);
        }
        const bytes = await src.read(`${i}.codes`);
        const codes = new Int32Array(bytes.slice().buffer);
        let samples: number | undefined;
        if (src.info(`${i}.samples`)) {
          const s = Number(new BigInt64Array((await src.read(`${i}.samples`)).slice().buffer)[0]);
          samples = s >= 0 ? s : undefined;
        }
        items.push({ name: typeof names[i] === "string" ? names[i] : `item${i}`, codes, samples });
      }
      if (!items.length) throw new CodesFileError(path, "holds no `<i>.codes` tensors");
      return items;
    } finally {
      await src.close();
    }
  }
  if (path.endsWith(".parquet")) return await readParquetCodes(path);
  throw new CodesFileError(path, "unknown codes format: use .npy, .jsonl, .safetensors or .parquet");
}

/** The columns a codes Parquet file is read by (the layout of `encode-dataset`'s shards). */
const PARQUET_KEY = "__key__", PARQUET_CODES = "codes", PARQUET_SECONDS = "duration_s";

async function readParquetCodes(path: string): Promise<CodeItem[]> {
  // hyparquet (pure JS) loads only when a Parquet file is read: apps that never decode one do not load it
  const { parquetMetadata, parquetReadObjects, parquetSchema } = await import("hyparquet");
  const bytes = await readFile(path);
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  let columns: string[];
  try {
    columns = parquetSchema(parquetMetadata(file)).children.map((c) => c.element.name);
  } catch (e) {
    throw new CodesFileError(path, `not a Parquet file (${(e as Error).message})`);
  }
  for (const c of [PARQUET_KEY, PARQUET_CODES]) {
    if (!columns.includes(c)) {
      throw new CodesFileError(
        path,
        `a codes Parquet file needs the columns "${PARQUET_KEY}" and "${PARQUET_CODES}"; this one has ` +
          columns.map((n) => `"${n}"`).join(", "),
      );
    }
  }
  const wanted = [PARQUET_KEY, PARQUET_CODES, ...(columns.includes(PARQUET_SECONDS) ? [PARQUET_SECONDS] : [])];
  let rows: Record<string, unknown>[];
  try {
    rows = await parquetReadObjects({ file, columns: wanted });
  } catch (e) {
    throw new CodesFileError(path, `cannot read its rows (${(e as Error).message})`);
  }
  // no rows is a valid shard (every item of it failed): nothing to decode
  return rows.map((r, i) => {
    const key = r[PARQUET_KEY];
    const where = `row ${i}${typeof key === "string" ? ` ("${key}")` : ""}`;
    if (typeof key !== "string" || !key) throw new CodesFileError(path, `${where}: "${PARQUET_KEY}" must be a string`);
    const list = r[PARQUET_CODES];
    if (!Array.isArray(list) || list.length > MAX_CODES) {
      throw new CodesFileError(path, `${where}: "${PARQUET_CODES}" must be a list of integers`);
    }
    const codes = new Int32Array(list.length);
    for (let t = 0; t < list.length; t++) {
      const v = typeof list[t] === "bigint" ? Number(list[t]) : list[t];
      if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
        throw new CodesFileError(path, `${where}: code ${t} (${list[t]}) is not an int32`);
      }
      codes[t] = v;
    }
    // duration_s is float32: for clips under 8 min (2^23 samples) it rounds back to the exact sample count
    const seconds = r[PARQUET_SECONDS];
    const samples = typeof seconds === "number" && seconds > 0 ? Math.round(seconds * SAMPLE_RATE) : undefined;
    return { name: key, codes, samples };
  });
}
