/**
 * A WAV written as its samples arrive (`xcodec2 decode --stream`), to a file or to standard output ("-").
 *
 * The header goes first, before the length is known, with ffmpeg's placeholders for a pipe (RIFF and data sizes
 * 0xFFFFFFFF, fact count 0): a player reading the pipe, and our reader, read to the end of the stream.
 *  - stdout: the placeholders stay (a pipe cannot seek back). Writes wait for the pipe to drain, so a slow player
 *    slows the decoder instead of filling memory.
 *  - a file: written under a temporary name in the same folder (readable and playable while it grows, with the same
 *    placeholders), then, at `close`, the real sizes are written into the header (a file can seek) and the file is
 *    renamed into place, so the final name never holds a half-written WAV. Past the RIFF limit (4 GiB, 18.6 hours of
 *    float32 at 16 kHz) the placeholders stay, which our reader and ffmpeg read to the end. `abort` removes it.
 */
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import process from "node:process";
import type { Writable } from "node:stream";
import { AudioError } from "./errors.ts";
import { STDIN_PATH } from "./read_audio.ts";
import { encodeSamples, wavHeader, type WavLayout, wavLayout, type WriteWavOptions } from "./wav_writer.ts";

/** "-" as an output path: standard output. */
export const STDOUT_PATH = STDIN_PATH;
const RIFF_LIMIT = 0xffffffff;

export class WavStreamWriter {
  private samples = 0;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly layout: WavLayout,
    private readonly file: { handle: FileHandle; tmp: string } | undefined,
    private readonly out: Writable | undefined,
  ) {}

  /** Start a WAV at `path` ("-": stdout); the header is written at once. */
  static async open(
    path: string,
    opts: WriteWavOptions = {},
    stdout: Writable = process.stdout,
  ): Promise<WavStreamWriter> {
    const name = path === STDOUT_PATH ? "<stdout>" : path;
    const layout = wavLayout(opts, name);
    if (path === STDOUT_PATH) {
      // A closed pipe (EPIPE) also emits "error" on the stream, which would end the process unhandled; the write
      // callback reports it instead.
      stdout.on("error", () => {});
      const w = new WavStreamWriter(name, layout, undefined, stdout);
      await w.put(wavHeader(layout, undefined));
      return w;
    }
    const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
    let handle: FileHandle;
    try {
      handle = await open(tmp, "wx");
    } catch (e) {
      throw new AudioError(path, "write-failed", `cannot write WAV: ${(e as Error)?.message ?? e}`, { cause: e });
    }
    const w = new WavStreamWriter(name, layout, { handle, tmp }, undefined);
    try {
      await w.put(wavHeader(layout, undefined));
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w;
  }

  /** Number of samples written so far. */
  get written(): number {
    return this.samples;
  }

  async write(samples: Float32Array): Promise<void> {
    if (this.closed) throw new AudioError(this.path, "write-failed", "cannot write WAV: already closed");
    if (!samples.length) return;
    const bytes = new Uint8Array(samples.length * this.layout.bytesPerSample);
    encodeSamples(samples, this.layout, bytes);
    await this.put(bytes);
    this.samples += samples.length;
  }

  /** Finish the WAV: a file gets its real sizes and its final name; stdout is left open for the process. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.file) return;
    const { handle, tmp } = this.file;
    try {
      const dataBytes = this.samples * this.layout.bytesPerSample;
      if (this.layout.headerBytes - 8 + dataBytes <= RIFF_LIMIT) {
        await handle.write(wavHeader(this.layout, this.samples), 0, this.layout.headerBytes, 0);
      }
      await handle.close();
      await rename(tmp, this.path);
    } catch (e) {
      await handle.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw new AudioError(this.path, "write-failed", `cannot write WAV: ${(e as Error)?.message ?? e}`, { cause: e });
    }
  }

  /** Give up: a file's temporary is removed (nothing appears under its name); stdout is left as it is. */
  async abort(): Promise<void> {
    if (this.closed && !this.file) return;
    this.closed = true;
    if (!this.file) return;
    await this.file.handle.close().catch(() => {});
    await unlink(this.file.tmp).catch(() => {});
  }

  private async put(bytes: Uint8Array): Promise<void> {
    try {
      if (this.file) {
        await this.file.handle.write(bytes);
        return;
      }
      // resolves when the pipe has taken the bytes: a slow reader holds the decoder back
      await new Promise<void>((resolve, reject) => this.out!.write(bytes, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = err?.code === "EPIPE" ? "the reader closed the pipe (EPIPE)" : err?.message ?? String(e);
      throw new AudioError(this.path, "write-failed", `cannot write WAV: ${why}`, { cause: e });
    }
  }
}
