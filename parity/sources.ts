/**
 * Material for the generators: speech-like clips and real code sequences from the reference set when it is present,
 * otherwise none (the generators then use synthetic kinds only).
 */
import { codebookSize } from "../convert/mod.ts";
import type { Sources } from "./arbitraries.ts";
import { readCaseTensors, readReferenceClip, referenceIndex, referenceRoot } from "./reference.ts";

export async function loadSources(levels: readonly number[] = [4, 4, 4, 4, 4, 4, 4, 4]): Promise<Sources> {
  const sources: Sources = { speech: [], codes: [], codebookSize: codebookSize(levels) };
  if (!referenceRoot()) return sources;
  const index = referenceIndex();
  for (const [name, clip] of Object.entries(index.clips)) {
    if (clip.kind === "noise") continue; // noise is generated; the sources are for speech-like material
    sources.speech.push({ name, samples: await readReferenceClip(index, name) });
  }
  // real codes only make sense for the same codebook size (tiny-a's FSQ is the full 4^8 one)
  for (const [key, c] of Object.entries(index.cases)) {
    if (c.kind !== "single") continue;
    const t = (await readCaseTensors(index, key)).get("enc.audio_codes");
    if (t && t.data instanceof Int32Array && t.data.every((v) => v < sources.codebookSize)) {
      sources.codes.push({ name: c.clips[0], codes: t.data });
    }
  }
  return sources;
}
