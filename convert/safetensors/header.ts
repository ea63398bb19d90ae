/**
 * Parsing and strict validation of a safetensors header. Layout: u64 little-endian N, N bytes of UTF-8 JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`, then the data block, with
 * offsets relative to its start. Every check names the file and the tensor at fault.
 */
import { type DType, DTYPE_BYTES, type TensorInfo } from "../tensor_source.ts";
import { findDuplicateKey } from "./duplicate_keys.ts";
import { SafetensorsError } from "./errors.ts";

/** Upper bound on the JSON header, as in the reference implementation: larger headers are refused, not parsed. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface HeaderEntry extends TensorInfo {
  /** byte offset of the tensor inside the data block */
  begin: number;
}

export interface ParsedHeader {
  /** tensors sorted by data offset (= file order) */
  entries: HeaderEntry[];
  metadata: Record<string, string>;
  /** 8 + N: where the data block starts in the file */
  dataStart: number;
}

export function isDType(s: unknown): s is DType {
  return typeof s === "string" && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, s);
}

/** Validates the 8-byte length prefix against the file size; returns N. */
export function checkHeaderLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8) {
    throw new SafetensorsError(file, `file is ${fileSize} bytes, shorter than the 8-byte header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new SafetensorsError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  const len = Number(n);
  if (len + 8 > fileSize) {
    throw new SafetensorsError(
      file,
      `header length ${len} runs past the end of the ${fileSize}-byte file (truncated?)`,
    );
  }
  if (len < 2) throw new SafetensorsError(file, `header length ${len} is too short for a JSON object`);
  return len;
}

export function parseHeader(file: string, headerBytes: Uint8Array, fileSize: number): ParsedHeader {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, "header is not valid UTF-8");
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new SafetensorsError(file, "header is not a JSON object");
  }
  const dup = findDuplicateKey(text);
  if (dup !== undefined) throw new SafetensorsError(file, "key appears twice in the header", dup);

  const dataStart = 8 + headerBytes.length;
  const dataSize = fileSize - dataStart;
  const metadata: Record<string, string> = {};
  const entries: HeaderEntry[] = [];
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
        throw new SafetensorsError(file, "__metadata__ is not an object of strings");
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") throw new SafetensorsError(file, `__metadata__ value for "${k}" is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    entries.push(parseEntry(file, name, raw));
  }

  entries.sort((a, b) => a.begin - b.begin || a.byteLength - b.byteLength);
  let cursor = 0;
  for (const e of entries) {
    const end = e.begin + e.byteLength;
    if (end > dataSize) {
      throw new SafetensorsError(
        file,
        `data_offsets [${e.begin}, ${end}] lie outside the ${dataSize}-byte data block`,
        e.name,
      );
    }
    if (e.begin < cursor) {
      throw new SafetensorsError(
        file,
        `data_offsets [${e.begin}, ${end}] overlap the previous tensor (ends at ${cursor})`,
        e.name,
      );
    }
    if (e.begin > cursor) {
      throw new SafetensorsError(file, `data_offsets [${e.begin}, ${end}] leave a gap after byte ${cursor}`, e.name);
    }
    cursor = end;
  }
  if (cursor !== dataSize) {
    throw new SafetensorsError(
      file,
      `tensors cover ${cursor} bytes but the data block has ${dataSize} (extra or missing bytes)`,
    );
  }
  return { entries, metadata, dataStart };
}

function parseEntry(file: string, name: string, raw: unknown): HeaderEntry {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new SafetensorsError(file, "entry is not an object", name);
  }
  const r = raw as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (k !== "dtype" && k !== "shape" && k !== "data_offsets") {
      throw new SafetensorsError(file, `unexpected field "${k}"`, name);
    }
  }
  if (!isDType(r.dtype)) throw new SafetensorsError(file, `unknown dtype ${JSON.stringify(r.dtype)}`, name);
  const dtype = r.dtype;
  if (!Array.isArray(r.shape) || !r.shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError(file, `shape ${JSON.stringify(r.shape)} is not a list of non-negative integers`, name);
  }
  const shape = r.shape as number[];
  const off = r.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new SafetensorsError(file, `data_offsets ${JSON.stringify(off)} are not two non-negative integers`, name);
  }
  const [begin, end] = off as [number, number];
  if (end < begin) throw new SafetensorsError(file, `data_offsets [${begin}, ${end}] end before they begin`, name);
  let numel = 1;
  for (const d of shape) {
    numel *= d;
    if (!Number.isSafeInteger(numel)) {
      throw new SafetensorsError(file, `shape ${JSON.stringify(shape)} is too large`, name);
    }
  }
  const byteLength = numel * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(byteLength) || byteLength !== end - begin) {
    throw new SafetensorsError(
      file,
      `${dtype} ${JSON.stringify(shape)} needs ${byteLength} bytes but data_offsets [${begin}, ${end}] hold ${
        end - begin
      }`,
      name,
    );
  }
  return { name, dtype, shape: [...shape], byteLength, begin };
}

/**
 * Serialises a header: `__metadata__` first, then the tensors in the given order with consecutive offsets, padded with
 * spaces so that the data block starts on an 8-byte boundary (allowed by the format; some readers map it aligned).
 */
export function buildHeader(
  tensors: readonly Pick<TensorInfo, "name" | "dtype" | "shape" | "byteLength">[],
  metadata: Record<string, string> | undefined,
  keyOrder: "given" | "sorted" = "sorted",
): Uint8Array {
  const offsets = new Map<string, [number, number]>();
  let cursor = 0;
  for (const t of tensors) {
    if (offsets.has(t.name)) throw new Error(`tensor "${t.name}" listed twice`);
    offsets.set(t.name, [cursor, cursor + t.byteLength]);
    cursor += t.byteLength;
  }
  const ordered = keyOrder === "sorted"
    ? [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    : tensors;
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  for (const t of ordered) {
    parts.push(
      `${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":${JSON.stringify(t.shape)},"data_offsets":${
        JSON.stringify(offsets.get(t.name))
      }}`,
    );
  }
  const body = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(body.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(body, 8);
  out.fill(0x20, 8 + body.length);
  return out;
}
