/** One utterance of a corpus, as the inputs describe it and as a shard plan carries it to a worker. */

/** Extensions of the audio formats `readAudio` decodes (the format itself is recognised from the bytes). */
export const AUDIO_EXTENSIONS: ReadonlySet<string> = new Set(["wav", "flac", "mp3"]);

/** Where an item's audio bytes are: a file, or a member of an uncompressed tar (byte range in the tar). */
export type AudioLocation =
  | { file: string }
  | { tar: string; member: string; offset: number; size: number };

export interface InputItem {
  /** `__key__`: unique in the job; also the `.npy` path (below `vq_codes/`) in the npy format */
  key: string;
  /** the `source` column: the path as the input named it (`shard.tar:member` for tar members) */
  source: string;
  /** absolute location, so a worker started in another folder (or on another machine) finds it */
  audio: AudioLocation;
  text: string | null;
  /** length in seconds known before decoding (manifest, TSV, header): only for planning and batching */
  seconds?: number;
}

/** An item skipped before or while encoding, one line of `errors.jsonl`. */
export interface ItemError {
  key?: string;
  path: string;
  reason: string;
}

export function locationLabel(a: AudioLocation): string {
  return "file" in a ? a.file : `${a.tar}:${a.member}`;
}
