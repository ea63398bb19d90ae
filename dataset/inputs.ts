/**
 * The corpus as the user names it, turned into one ordered list of items:
 *   - a folder of audio (sorted by path; `<name>.txt`, or `<name>.json` with "text", beside a file gives its text);
 *   - a JSONL manifest as NeMo writes it: `audio_filepath` (or `path`), optional `id`, `text`, `duration`, `offset`;
 *   - X-Codec-2.0's TSV (`get_tsv.py`): a first line with the root folder, then `relative/path<TAB>samples`;
 *   - WebDataset `.tar` shards (Emilia's layout): members grouped by key (the name up to the first dot of its last
 *     path component), one audio member plus `.txt` or `.json` ("text", "duration") per key;
 *   - single audio files.
 * Order is the order of the inputs, then the order inside each (manifest lines, sorted folder paths, tar members):
 * that order is the row order of the shards. Keys must be unique across all inputs.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { SAMPLE_RATE } from "../runtime/mod.ts";
import { DatasetError, ManifestError } from "./errors.ts";
import { AUDIO_EXTENSIONS, type InputItem, type ItemError } from "./item.ts";
import { indexTar, readTarMember } from "./tar.ts";

export interface Inputs {
  items: InputItem[];
  /** entries that name no usable audio (a WebDataset key without an audio member) */
  errors: ItemError[];
}

const ext = (p: string) => extname(p).slice(1).toLowerCase();
const withoutExt = (p: string) => p.slice(0, p.length - extname(p).length);
/** Keys use "/" on every platform, so the same corpus gives the same keys everywhere. */
const slashes = (p: string) => p.split(sep).join("/");
/** Code-point order, not localeCompare: the order (and so the shards' bytes) must not depend on the machine's locale. */
const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function readInputs(inputs: string[]): Promise<Inputs> {
  const all: Inputs = { items: [], errors: [] };
  for (const input of inputs) {
    const s = await stat(input).catch(() => {
      throw new DatasetError(`${input}: no such file or folder`);
    });
    const kind = s.isDirectory() ? "folder" : ext(input);
    let part: Inputs;
    if (kind === "folder") part = await readFolder(input);
    else if (kind === "jsonl" || kind === "json") part = await readJsonlManifest(input);
    else if (kind === "tsv" || kind === "txt") part = await readTsv(input);
    else if (kind === "tar") part = await readWebDataset(input);
    else if (AUDIO_EXTENSIONS.has(kind)) {
      part = {
        items: [{ key: withoutExt(basename(input)), source: input, audio: { file: resolve(input) }, text: null }],
        errors: [],
      };
    } else {
      throw new DatasetError(
        `${input}: not an input this command reads (a folder, .jsonl manifest, .tsv list, .tar shard or audio file)`,
      );
    }
    all.items.push(...part.items);
    all.errors.push(...part.errors);
  }
  const seen = new Map<string, string>();
  for (const it of all.items) {
    const other = seen.get(it.key);
    if (other !== undefined) {
      throw new DatasetError(
        `key "${it.key}" is used twice (${other} and ${it.source}); every item needs its own key (give manifest lines an "id")`,
      );
    }
    seen.set(it.key, it.source);
  }
  return all;
}

async function readFolder(root: string): Promise<Inputs> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => byCodePoint(a.name, b.name));
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) files.push(relative(root, p));
    }
  };
  await walk(root);
  const present = new Set(files);
  const items: InputItem[] = [];
  for (const rel of files) {
    if (!AUDIO_EXTENSIONS.has(ext(rel))) continue;
    const stem = withoutExt(rel);
    let text: string | null = null;
    if (present.has(`${stem}.txt`)) text = stripNewline(await readFile(join(root, `${stem}.txt`), "utf8"));
    else if (present.has(`${stem}.json`)) {
      text = jsonText(await readFile(join(root, `${stem}.json`), "utf8"), join(root, `${stem}.json`)).text;
    }
    items.push({ key: slashes(stem), source: join(root, rel), audio: { file: resolve(root, rel) }, text });
  }
  if (!items.length) throw new DatasetError(`${root}: no WAV, FLAC or MP3 files in this folder`);
  const keys = new Map<string, string>();
  for (const it of items) {
    const other = keys.get(it.key);
    if (other) throw new DatasetError(`${other} and ${it.source} have the same name; rename one (keys must be unique)`);
    keys.set(it.key, it.source);
  }
  return { items, errors: [] };
}

function stripNewline(s: string): string {
  return s.replace(/\r?\n$/, "");
}

/** `text` and `duration` of a WebDataset / sidecar JSON object; anything else in it is ignored. */
function jsonText(raw: string, file: string): { text: string | null; seconds?: number } {
  let o: unknown;
  try {
    o = JSON.parse(raw);
  } catch {
    throw new ManifestError(file, "1", "not JSON");
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) throw new ManifestError(file, "1", "not a JSON object");
  const r = o as Record<string, unknown>;
  const text = typeof r.text === "string" ? r.text : null;
  const seconds = typeof r.duration === "number" && r.duration > 0 ? r.duration : undefined;
  return { text, seconds };
}

async function readJsonlManifest(file: string): Promise<Inputs> {
  const dir = dirname(resolve(file));
  const lines = (await readFile(file, "utf8")).split("\n");
  const items: InputItem[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    const at = String(i + 1);
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (e) {
      throw new ManifestError(file, at, `not JSON (${(e as Error).message})`);
    }
    if (typeof o !== "object" || o === null || Array.isArray(o)) throw new ManifestError(file, at, "not a JSON object");
    const r = o as Record<string, unknown>;
    const path = r.audio_filepath ?? r.path;
    if (typeof path !== "string" || !path) {
      throw new ManifestError(file, at, `needs "audio_filepath" (or "path"): a non-empty string`);
    }
    if (r.id !== undefined && typeof r.id !== "string" && typeof r.id !== "number") {
      throw new ManifestError(file, at, `"id" must be a string or a number`);
    }
    if (r.text !== undefined && r.text !== null && typeof r.text !== "string") {
      throw new ManifestError(file, at, `"text" must be a string or null`);
    }
    for (const f of ["duration", "offset"] as const) {
      const v = r[f];
      if (v !== undefined && v !== null && (typeof v !== "number" || !Number.isFinite(v) || v < 0)) {
        throw new ManifestError(file, at, `"${f}" must be a number of seconds ≥ 0`);
      }
    }
    if (typeof r.offset === "number" && r.offset > 0) {
      // NeMo's offset selects a segment of a longer file; encoding the whole file instead would be silently wrong
      throw new ManifestError(
        file,
        at,
        `"offset" (segments of a longer file) is not supported; cut the segments first`,
      );
    }
    const abs = isAbsolute(path) ? path : resolve(dir, path);
    const rel = relative(dir, abs);
    const key = r.id !== undefined ? String(r.id) : slashes(withoutExt(rel.startsWith("..") ? abs : rel));
    items.push({
      key,
      source: path,
      audio: { file: abs },
      text: typeof r.text === "string" ? r.text : null,
      seconds: typeof r.duration === "number" && r.duration > 0 ? r.duration : undefined,
    });
  });
  if (!items.length) throw new DatasetError(`${file}: the manifest has no entries`);
  return { items, errors: [] };
}

async function readTsv(file: string): Promise<Inputs> {
  const lines = (await readFile(file, "utf8")).split("\n").map((l) => l.replace(/\r$/, ""));
  // get_tsv.py writes the root folder on the first line; without it, paths are relative to the list's own folder
  let root = dirname(resolve(file));
  let first = 0;
  if (lines.length && lines[0].trim() && !lines[0].includes("\t")) {
    root = resolve(dirname(resolve(file)), lines[0].trim());
    first = 1;
  }
  const items: InputItem[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    const at = String(i + 1);
    const cols = line.split("\t");
    if (cols.length > 2 || !cols[0]) {
      throw new ManifestError(file, at, `expected "path<TAB>length in samples", got ${cols.length} columns`);
    }
    let seconds: number | undefined;
    if (cols.length === 2) {
      const n = Number(cols[1]);
      if (!/^\d+(\.\d+)?$/.test(cols[1].trim()) || !Number.isFinite(n)) {
        throw new ManifestError(file, at, `the length "${cols[1]}" is not a number`);
      }
      // get_tsv.py writes the length in samples at the file's own rate, which the list does not say: a hint at
      // 16 kHz (exact for 16 kHz corpora such as MLS), used only for planning
      seconds = n > 0 ? n / SAMPLE_RATE : undefined;
    }
    const rel = cols[0];
    items.push({
      key: slashes(withoutExt(rel)),
      source: rel,
      audio: { file: resolve(root, rel) },
      text: null,
      seconds,
    });
  }
  if (!items.length) throw new DatasetError(`${file}: the list has no entries`);
  return { items, errors: [] };
}

/** WebDataset's key rule: the member name up to the first dot of its last path component. */
export function webDatasetKey(member: string): { key: string; suffix: string } {
  const slash = member.lastIndexOf("/");
  const dot = member.indexOf(".", slash + 1);
  return dot < 0 ? { key: member, suffix: "" } : { key: member.slice(0, dot), suffix: member.slice(dot + 1) };
}

async function readWebDataset(tar: string): Promise<Inputs> {
  const members = await indexTar(tar);
  const abs = resolve(tar);
  const groups = new Map<string, { audio: typeof members; txt?: (typeof members)[0]; json?: (typeof members)[0] }>();
  for (const m of members) {
    const { key, suffix } = webDatasetKey(m.name);
    const g = groups.get(key) ?? { audio: [] };
    groups.set(key, g);
    const last = suffix.split(".").pop()!.toLowerCase();
    if (AUDIO_EXTENSIONS.has(last)) g.audio.push(m);
    else if (suffix.toLowerCase() === "txt") g.txt = m;
    else if (suffix.toLowerCase() === "json") g.json = m;
  }
  const items: InputItem[] = [];
  const errors: ItemError[] = [];
  for (const [key, g] of groups) {
    if (g.audio.length !== 1) {
      errors.push({
        key,
        path: `${tar}:${key}`,
        reason: g.audio.length ? `${g.audio.length} audio members for one key` : "no audio member (wav, flac, mp3)",
      });
      continue;
    }
    const a = g.audio[0];
    let text: string | null = null;
    let seconds: number | undefined;
    if (g.json) {
      const meta = jsonText(
        new TextDecoder().decode(await readTarMember(abs, g.json.offset, g.json.size)),
        `${tar}:${g.json.name}`,
      );
      text = meta.text;
      seconds = meta.seconds;
    }
    if (g.txt) text = stripNewline(new TextDecoder().decode(await readTarMember(abs, g.txt.offset, g.txt.size)));
    items.push({
      key,
      source: `${tar}:${a.name}`,
      audio: { tar: abs, member: a.name, offset: a.offset, size: a.size },
      text,
      seconds,
    });
  }
  if (!items.length && !errors.length) throw new DatasetError(`${tar}: the tar holds no members`);
  return { items, errors };
}
