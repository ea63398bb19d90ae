/**
 * The command line that runs one of our TypeScript entry points under the runtime running now: Bun and Node (where it
 * strips types) take the script directly; Deno needs `run -A` and, when the project's deno.json is there, that config
 * (its `nodeModulesDir` setting resolves the npm packages), whatever folder the user started in.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const DENO_CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));

export function runtimeCommand(script: string, args: string[]): { command: string; args: string[] } {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) {
    const config = existsSync(DENO_CONFIG) ? ["--config", DENO_CONFIG] : [];
    return { command: deno.execPath(), args: ["run", "-A", ...config, script, ...args] };
  }
  return { command: process.execPath, args: [script, ...args] };
}
