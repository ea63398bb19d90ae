/**
 * This package's version, read from its package.json (the one source of the version): a new release may build
 * different graphs, so the model cache keys on it and every exported graph names it as its producer version.
 *
 * The file sits one folder up from this module in a checkout (`convert/`) and two in the built package
 * (`dist/convert/`); the first package.json named xcodec2-kit wins. A module loaded from a URL (JSR) has no
 * package.json to read, but its URL carries the version, so the URL stands in for it.
 */
import { readFile } from "node:fs/promises";

const NAME = "xcodec2-kit";
let cached: Promise<string> | undefined;

async function readVersion(): Promise<string> {
  const here = new URL(import.meta.url);
  if (here.protocol !== "file:") return here.href.slice(0, here.href.lastIndexOf("/"));
  for (const up of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(await readFile(new URL(up, here), "utf8"));
      if (pkg?.name === NAME && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not there: try the next folder up
    }
  }
  return "0";
}

export function kitVersion(): Promise<string> {
  cached ??= readVersion();
  return cached;
}
