/**
 * A PyTorch zip checkpoint (`torch.save` of a state dict, a Lightning `.ckpt`, a `pytorch_model.bin`) as a
 * TensorSource. Opening runs the restricted unpickler on `<prefix>/data.pkl` only; storages are zip entries
 * `<prefix>/data/<key>` read when a tensor is asked for, so optimizer state and every other non-weight tensor is
 * never read at all.
 */

import { DTYPE_BYTES, type TensorInfo, type TensorSource } from "../tensor_source.ts";
import { lookupGlobal } from "./allowlist.ts";
import { PickleError } from "./errors.ts";
import { gatherStrided, numelOf, swapBytes, viewExtent } from "./strided.ts";
import { unpickle } from "./unpickler.ts";
import { describe, PyDict, PyGlobal, PyTuple, type PyValue, StorageRef, TensorRef } from "./values.ts";
import { type ZipEntry, ZipReader } from "./zip_reader.ts";

/** data.pkl of a state dict is ~130 bytes per tensor; anything this large is not one. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
/** Largest tensor we materialise (a JS typed array limit, and far beyond any XCodec2 weight). */
const MAX_TENSOR_BYTES = 2 ** 31 - 1;
/**
 * A view may be larger than its storage only with zero or overlapping strides (an expanded tensor); cap that case
 * much lower so a tiny file cannot declare a huge materialisation.
 */
const MAX_EXPANDED_TENSOR_BYTES = 64 * 1024 * 1024;

interface Entry {
  info: TensorInfo;
  tensor: TensorRef;
  zipEntry: ZipEntry | undefined;
}

/** Key present in every Lightning checkpoint's top-level dict. */
const LIGHTNING_MARKERS = ["pytorch-lightning_version", "state_dict"];

export class PickleCheckpoint implements TensorSource {
  private constructor(
    readonly path: string,
    private readonly zip: ZipReader,
    private readonly entries: Map<string, Entry>,
    private readonly bigEndian: boolean,
    /** state-dict keys whose values are not tensors (e.g. `_extra_state`); left out of list() */
    readonly skipped: readonly string[],
    /** true when the weights came from a Lightning checkpoint's `state_dict` */
    readonly lightning: boolean,
  ) {}

  static async open(path: string): Promise<PickleCheckpoint> {
    const zip = await ZipReader.open(path);
    try {
      return await PickleCheckpoint.load(path, zip);
    } catch (err) {
      await zip.close();
      throw err;
    }
  }

  private static async load(path: string, zip: ZipReader): Promise<PickleCheckpoint> {
    const first = zip.names[0];
    const slash = first === undefined ? -1 : first.indexOf("/");
    if (slash <= 0) {
      throw new PickleError(`${path}: zip archive has no "<name>/data.pkl" layout; not a PyTorch checkpoint`);
    }
    const prefix = first!.slice(0, slash);
    const pklEntry = zip.entries.get(`${prefix}/data.pkl`);
    if (!pklEntry) {
      const hint = zip.entries.has(`${prefix}/constants.pkl`) ? " (it looks like a TorchScript archive)" : "";
      throw new PickleError(`${path}: no "${prefix}/data.pkl" entry${hint}; not a torch.save checkpoint`);
    }
    if (pklEntry.size > MAX_PICKLE_BYTES) {
      throw new PickleError(`${path}: "${pklEntry.name}" declares ${pklEntry.size} bytes, too large for a state dict`);
    }
    const bigEndian = await readByteOrder(path, zip, prefix);
    const pickle = await zip.read(pklEntry);
    const root = unpickle(pickle, `${path}: ${pklEntry.name}`, {
      persistentLoad: (pid) => storageFromPersistentId(pid),
    });

    const { stateDict, lightning } = findStateDict(path, root);
    const entries = new Map<string, Entry>();
    const skipped: string[] = [];
    for (const [key, value] of stateDict.map) {
      if (typeof key !== "string") throw new PickleError(`${path}: state dict key ${describe(key)} is not a string`);
      if (!(value instanceof TensorRef)) {
        skipped.push(key);
        continue;
      }
      entries.set(key, checkTensor(path, zip, prefix, key, value));
    }
    if (entries.size === 0) {
      const keys = [...stateDict.map.keys()].slice(0, 8).map((k) => describe(k)).join(", ");
      throw new PickleError(`${path}: no tensors found in the state dict (keys: ${keys || "none"})`);
    }
    return new PickleCheckpoint(path, zip, entries, bigEndian, skipped, lightning);
  }

  list(): TensorInfo[] {
    return [...this.entries.values()].map((e) => e.info);
  }

  info(name: string): TensorInfo | undefined {
    return this.entries.get(name)?.info;
  }

  async read(name: string): Promise<Uint8Array> {
    const e = this.entries.get(name);
    if (!e) throw new PickleError(`${this.path}: no tensor named "${name}"`);
    if (e.info.byteLength === 0 || !e.zipEntry) return new Uint8Array(0);
    const t = e.tensor;
    const storage = await this.zip.read(e.zipEntry);
    const bytes = gatherStrided(storage, t.storage.elementSize, t.storageOffset, t.shape, t.stride);
    if (this.bigEndian) swapBytes(bytes, t.storage.elementSize);
    return bytes;
  }

  async close(): Promise<void> {
    await this.zip.close();
  }
}

async function readByteOrder(path: string, zip: ZipReader, prefix: string): Promise<boolean> {
  const e = zip.entries.get(`${prefix}/byteorder`);
  if (!e) return false; // files from before torch wrote the record are little-endian
  if (e.size > 16) throw new PickleError(`${path}: "${e.name}" is ${e.size} bytes; expected "little" or "big"`);
  const text = new TextDecoder().decode(await zip.read(e)).trim();
  if (text === "little") return false;
  if (text === "big") return true;
  throw new PickleError(`${path}: "${e.name}" says ${JSON.stringify(text)}; expected "little" or "big"`);
}

/** `('storage', storage_type, key, location, numel)` → StorageRef. storage_type is a storage class or a dtype. */
function storageFromPersistentId(pid: PyValue): StorageRef {
  const items = pid instanceof PyTuple ? pid.items : undefined;
  if (!items || items.length !== 5 || items[0] !== "storage") {
    throw new PickleError(`persistent id must be ('storage', type, key, location, numel), got ${describe(pid)}`);
  }
  const [, type, key, location, numel] = items;
  const allowed = type instanceof PyGlobal ? lookupGlobal(type.module, type.name) : undefined;
  if (!allowed || (allowed.kind !== "storage" && allowed.kind !== "dtype")) {
    throw new PickleError(`persistent id names ${describe(type)} as its storage type`);
  }
  if (typeof key !== "string" || key.length === 0 || key.includes("/")) {
    throw new PickleError(`storage key must be a plain name, got ${describe(key)}`);
  }
  if (typeof location !== "string") throw new PickleError(`storage location must be a str, got ${describe(location)}`);
  if (typeof numel !== "number" || !Number.isSafeInteger(numel) || numel < 0) {
    throw new PickleError(`storage ${key}: element count must be a non-negative integer, got ${describe(numel)}`);
  }
  const el = allowed.element;
  return new StorageRef(key, el.dtype, el.torchName, el.size, numel, location);
}

function findStateDict(path: string, root: PyValue): { stateDict: PyDict; lightning: boolean } {
  if (!(root instanceof PyDict)) {
    throw new PickleError(`${path}: the pickle holds ${describe(root)}, not a state dict`);
  }
  const sd = root.get("state_dict");
  if (sd !== undefined) {
    // Lightning (and most training scripts) keep the weights under "state_dict" beside optimizer state
    if (!(sd instanceof PyDict)) throw new PickleError(`${path}: "state_dict" holds ${describe(sd)}, not a dict`);
    return { stateDict: sd, lightning: LIGHTNING_MARKERS.every((k) => root.map.has(k)) };
  }
  return { stateDict: root, lightning: false };
}

/** Validate one state-dict tensor against its storage entry without reading any data. */
function checkTensor(path: string, zip: ZipReader, prefix: string, key: string, t: TensorRef): Entry {
  const where = `${path}: tensor "${key}"`;
  const s = t.storage;
  if (s.dtype === undefined) throw new PickleError(`${where} has dtype ${s.dtypeName}, which is not supported`);
  const numel = numelOf(t.shape);
  const byteLength = numel * DTYPE_BYTES[s.dtype];
  if (!Number.isSafeInteger(byteLength) || byteLength > MAX_TENSOR_BYTES) {
    throw new PickleError(`${where}: shape [${t.shape}] is too large (${byteLength} bytes)`);
  }
  const extent = viewExtent(t.storageOffset, t.shape, t.stride);
  if (extent > s.numel) {
    throw new PickleError(
      `${where}: view (offset ${t.storageOffset}, shape [${t.shape}], stride [${t.stride}]) reaches element ${extent} of a ${s.numel}-element storage`,
    );
  }
  if (numel > s.numel && byteLength > MAX_EXPANDED_TENSOR_BYTES) {
    throw new PickleError(
      `${where}: expanded view of ${byteLength} bytes over a ${s.numel}-element storage is too large`,
    );
  }
  let zipEntry: ZipEntry | undefined;
  if (byteLength > 0) {
    zipEntry = zip.entries.get(`${prefix}/data/${s.key}`);
    if (!zipEntry) {
      throw new PickleError(`${where}: storage entry "${prefix}/data/${s.key}" is missing from the archive`);
    }
    const need = s.numel * s.elementSize;
    if (zipEntry.size < need) {
      throw new PickleError(
        `${where}: storage "${zipEntry.name}" has ${zipEntry.size} bytes but ${s.numel} ${s.dtypeName} elements need ${need}`,
      );
    }
  }
  return { info: { name: key, dtype: s.dtype, shape: [...t.shape], byteLength }, tensor: t, zipEntry };
}
