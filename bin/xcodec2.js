#!/usr/bin/env node
// The npm `bin` (`npx xcodec2`, `bunx xcodec2`, `deno run -A npm:xcodec2-kit`): runs the compiled command in dist/,
// which Node >= 20, Bun and Deno all run. In a checkout, Bun and Deno run the TypeScript sources instead (always
// current, whereas dist/ is only rebuilt by `npm run build` / `npm pack`); Node needs the build.
import { existsSync } from "node:fs";

const sources = new URL("./xcodec2.ts", import.meta.url);
const built = new URL("../dist/bin/xcodec2.js", import.meta.url);
const runsTypeScript = "Bun" in globalThis || "Deno" in globalThis;
const entry = runsTypeScript && existsSync(sources) ? sources : built;
if (!existsSync(entry)) {
  console.error("xcodec2: dist/ is missing; run `npm run build` first (Node does not run the TypeScript sources)");
  process.exit(1);
}
const { main } = await import(entry.href);
process.exit(await main(process.argv.slice(2)));
