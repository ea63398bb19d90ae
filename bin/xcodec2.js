#!/usr/bin/env node
// npm entry point: Node 20 cannot run TypeScript, so hand the command to the Bun that ships with this package.
// (Under Bun or Deno, run bin/xcodec2.ts directly: `bunx xcodec2`, `deno run -A bin/xcodec2.ts`.)
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
let bun;
try {
  bun = require.resolve("bun/bin/bun.exe");
} catch {
  console.error("xcodec2: the `bun` package is missing; run `npm install` in the xcodec2-kit folder");
  process.exit(1);
}
const entry = fileURLToPath(new URL("./xcodec2.ts", import.meta.url));
const r = spawnSync(bun, [entry, ...process.argv.slice(2)], { stdio: "inherit" });
process.exit(r.status ?? 1);
