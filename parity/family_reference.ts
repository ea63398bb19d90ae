/**
 * The family's reference sets (fixtures/family/<member>/): per member, tensors that the member's ORIGINAL code
 * computed on a tiny checkpoint written by our own generator (fixtures/gen/member.ts), for clips of the base
 * reference set. The one reader of those folders. A converted folder is recognised as a member's reference
 * checkpoint by the source digests its conversion.json records: the generator is deterministic, and cases.json holds
 * the sha256 of the files the original ran on.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isMemberName, type MemberName } from "../convert/mod.ts";
import { type CaseTensors, readTensorFile } from "./reference.ts";

/** One clip's entry in a member's cases.json. */
export interface FamilyCase {
  clip: string;
  samples: number;
  codes: number;
  /** tensor file in the member's folder */
  file: string;
  "fsq_fragile_frames_1e-4": number[];
  "fsq_fragile_frames_1e-3": number[];
  tensors: Record<string, { shape: number[]; dtype: string }>;
}

export interface FamilyReference {
  member: MemberName;
  /** the member's folder */
  root: string;
  /** the original code's repository @ commit */
  original: string;
  versions: Record<string, string | number>;
  checkpoint: { seed: number; decoder_weight_norm?: string; sha256: Record<string, string> };
  /** code counts the original gave (or its error) for noise clips of these lengths */
  edge_lengths: Record<string, { codes?: number; error?: string }>;
  cases: Record<string, FamilyCase>;
}

const FAMILY_ROOT = fileURLToPath(new URL("../fixtures/family/", import.meta.url));

let cached: FamilyReference[] | undefined;

/** Every member's reference set present under fixtures/family (none when the package was installed without it). */
export function familyReferences(root = FAMILY_ROOT): FamilyReference[] {
  if (root === FAMILY_ROOT && cached) return cached;
  const out: FamilyReference[] = [];
  if (existsSync(root)) {
    for (const name of readdirSync(root).sort()) {
      const file = join(root, name, "cases.json");
      if (!existsSync(file)) continue;
      let json: Omit<FamilyReference, "root">;
      try {
        json = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new Error(`${file}: ${(e as Error).message}`);
      }
      if (!isMemberName(json.member) || typeof json.cases !== "object" || !json.checkpoint?.sha256) {
        throw new Error(`${file}: not a family reference (member, cases, checkpoint.sha256)`);
      }
      out.push({ ...json, root: join(root, name) });
    }
  }
  if (root === FAMILY_ROOT) cached = out;
  return out;
}

/** The reference set of one member. */
export function familyReference(member: MemberName, root = FAMILY_ROOT): FamilyReference {
  const r = familyReferences(root).find((x) => x.member === member);
  if (!r) throw new Error(`fixtures/family: no reference set for ${member}`);
  return r;
}

/** All tensors of one clip's case. */
export async function readFamilyCase(ref: FamilyReference, clip: string): Promise<CaseTensors> {
  const c = ref.cases[clip];
  if (!c) throw new Error(`${ref.root}/cases.json: no case for clip "${clip}"`);
  return await readTensorFile(join(ref.root, c.file));
}

/** The weight files the original ran on (their digests identify a conversion of them). */
function weightDigests(ref: FamilyReference): string[] {
  return Object.entries(ref.checkpoint.sha256)
    .filter(([f]) => /\.(bin|safetensors)$/.test(f))
    .map(([, sha]) => sha);
}

/**
 * The member reference whose checkpoint a converted folder was converted from, by the source digests in its
 * conversion.json (every weight file the original ran on must be among them); undefined otherwise.
 */
export async function identifyFamilyReference(dir: string, root = FAMILY_ROOT): Promise<FamilyReference | undefined> {
  let sidecar: { source?: { files?: { file: string; sha256: string }[] } };
  try {
    sidecar = JSON.parse(await readFile(join(dir, "conversion.json"), "utf8"));
  } catch {
    return undefined;
  }
  const digests = new Set((sidecar.source?.files ?? []).map((f) => f.sha256));
  return familyReferences(root).find((r) => weightDigests(r).every((sha) => digests.has(sha)));
}

/** The tensor file name of a case, for messages. */
export const familyCaseLabel = (ref: FamilyReference, clip: string) =>
  `${ref.member}/${basename(ref.cases[clip]?.file ?? clip)}`;
