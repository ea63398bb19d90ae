/**
 * The one argument parser of the `xcodec2` commands: a command declares its positionals and options (type, default,
 * range or choices, help text) and gets typed values, a generated usage line and help, and a `UsageError` (exit 2)
 * naming the argument for anything wrong. Tokenising is node:util's `parseArgs` (strict: unknown options and missing
 * values are refused); this layer adds types, ranges, required options and the text.
 */
import { parseArgs } from "node:util";
import { EXIT, oneLine, UsageError } from "./errors.ts";

interface Common {
  /** one line for the help */
  help: string;
  short?: string;
}
export interface BooleanOption extends Common {
  type: "boolean";
}
export interface StringOption<T = string> extends Common {
  type: "string";
  /** placeholder in the usage (default VALUE) */
  value?: string;
  default?: string;
  required?: boolean;
  /** turns the text into the value; throws a UsageError naming the flag for a bad one */
  parse?: (text: string, flag: string) => T;
}
export interface ChoiceOption<C extends string = string> extends Common {
  type: "choice";
  choices: readonly C[];
  default?: C;
}
export interface NumberOption extends Common {
  /** integer: whole numbers only */
  type: "integer" | "number";
  min: number;
  max: number;
  /** the minimum itself is refused: (min, max] */
  minExclusive?: boolean;
  value?: string;
  default?: number;
}
/** Repeatable (`--target a --target b`) or comma-separated (`--target a,b`); every item one of `choices`. */
export interface ListOption<C extends string = string> extends Common {
  type: "list";
  choices: readonly C[];
  value?: string;
}
export type OptionSpec = BooleanOption | StringOption<unknown> | ChoiceOption | NumberOption | ListOption;

export interface PositionalSpec {
  name: string;
  help: string;
  optional?: boolean;
  /** takes every remaining positional (the last one only) */
  variadic?: boolean;
}

export interface CommandSpec<O extends Record<string, OptionSpec>> {
  /** the subcommand, as in `xcodec2 <name>` */
  name: string;
  /** how it is invoked, when it is not `xcodec2 <name>` (the scripts: `npm run bench --`) */
  program?: string;
  summary: string;
  positionals: readonly PositionalSpec[];
  options: O;
  /** usage lines to show instead of the generated one (commands with several forms) */
  synopsis?: readonly string[];
  /** further help text after the option list */
  notes?: string;
}

type ValueOf<S> = S extends BooleanOption ? boolean
  : S extends ListOption<infer C> ? C[]
  : S extends NumberOption ? number
  : S extends ChoiceOption<infer C> ? C
  : S extends { parse: (text: string, flag: string) => infer T } ? T
  : string;
type Given<S> = S extends BooleanOption | ListOption ? true
  : S extends { default: unknown } | { required: true } ? true
  : false;

/** Parsed values by option name; an option without a default or `required` may be undefined. */
export type OptionValues<O extends Record<string, OptionSpec>> = {
  [K in keyof O]: Given<O[K]> extends true ? ValueOf<O[K]> : ValueOf<O[K]> | undefined;
};

export interface ParsedArgs<O extends Record<string, OptionSpec>> {
  positionals: string[];
  values: OptionValues<O>;
}

const HELP_FLAGS = new Set(["--help", "-h"]);

export class Command<const O extends Record<string, OptionSpec>> {
  constructor(readonly spec: CommandSpec<O>) {}

  /** `xcodec2 encode`, or the script's own invocation */
  get program(): string {
    return this.spec.program ?? `xcodec2 ${this.spec.name}`;
  }

  /** `usage: xcodec2 encode <model> <audio>... --out PATH [options]` (and any further forms). */
  usage(): string {
    if (this.spec.synopsis) return this.spec.synopsis.map((l, i) => `${i ? "      " : "usage:"} ${l}`).join("\n");
    const pos = this.spec.positionals.map((p) => {
      const n = `<${p.name}>${p.variadic ? "..." : ""}`;
      return p.optional ? `[${n}]` : n;
    });
    const required = Object.entries(this.spec.options).filter(([, o]) => o.type === "string" && o.required)
      .map(([k, o]) => `--${k} ${placeholder(o)}`);
    return ["usage:", this.program, ...pos, ...required, "[options]"].join(" ");
  }

  /** Usage, summary, then one line per positional and option with its default. */
  help(): string {
    const rows: [string, string][] = this.spec.positionals.map((
      p,
    ) => [`<${p.name}>${p.variadic ? "..." : ""}`, p.help]);
    for (const [k, o] of Object.entries(this.spec.options)) {
      const flag = `${o.short ? `-${o.short}, ` : "    "}--${k}${o.type === "boolean" ? "" : ` ${placeholder(o)}`}`;
      const dflt = "default" in o && o.default !== undefined ? ` (default ${o.default})` : "";
      rows.push([flag, `${o.help}${dflt}`]);
    }
    rows.push(["-h, --help", "this help"]);
    const width = Math.max(...rows.map(([a]) => a.length));
    return [
      this.usage(),
      "",
      this.spec.summary,
      "",
      ...rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`),
      ...(this.spec.notes ? ["", this.spec.notes] : []),
    ].join("\n");
  }

  /** Typed values, or a UsageError naming the argument. `--help` is handled by `run`, not here. */
  parse(argv: readonly string[]): ParsedArgs<O> {
    const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
    for (const [k, o] of Object.entries(this.spec.options)) {
      options[k] = {
        type: o.type === "boolean" ? "boolean" : "string",
        ...(o.short ? { short: o.short } : {}),
        ...(o.type === "list" ? { multiple: true } : {}),
      };
    }
    let raw: { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] };
    try {
      raw = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true }) as typeof raw;
    } catch (e) {
      // parseArgs throws only for the command line (unknown option, missing or misplaced value)
      throw new UsageError(String((e as Error).message).split("\n")[0]);
    }
    this.checkPositionals(raw.positionals);
    const values: Record<string, unknown> = {};
    for (const [k, o] of Object.entries(this.spec.options)) values[k] = convert(k, o, raw.values[k]);
    return { positionals: raw.positionals, values: values as OptionValues<O> };
  }

  /**
   * Run `body` on the parsed arguments: `--help` prints the help (exit 0); a usage error, from the parser or from
   * `body`, prints one line with the usage and returns 2. Every other error propagates to the caller (`bin/`).
   */
  async run(argv: readonly string[], body: (args: ParsedArgs<O>) => Promise<number>): Promise<number> {
    if (argv.some((a) => HELP_FLAGS.has(a))) {
      console.log(this.help());
      return EXIT.ok;
    }
    try {
      return await body(this.parse(argv));
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      // one line: the message, then the usage (or, for a command with several forms, where to find them)
      const usage = this.spec.synopsis ? `see ${this.program} --help` : this.usage();
      const label = this.spec.program ? this.spec.name : this.program;
      console.error(`${label}: ${oneLine(e.message)}; ${usage}`);
      return e.exitCode;
    }
  }

  private checkPositionals(given: readonly string[]): void {
    const specs = this.spec.positionals;
    const required = specs.filter((p) => !p.optional);
    if (given.length < required.length) throw new UsageError(`missing <${required[given.length].name}>`);
    if (!specs.some((p) => p.variadic) && given.length > specs.length) {
      throw new UsageError(`unexpected argument ${JSON.stringify(given[specs.length])}`);
    }
  }
}

function placeholder(o: OptionSpec): string {
  if (o.type === "choice") return o.choices.join("|");
  if (o.type === "list") return o.value ?? `${o.choices.join("|")}[,...]`;
  return ("value" in o && o.value) || (o.type === "string" ? "VALUE" : "N");
}

/** "a, b, c or d" */
export function alternatives(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items[items.length - 1]}`;
}

function convert(name: string, o: OptionSpec, v: string | boolean | string[] | undefined): unknown {
  const flag = `--${name}`;
  if (o.type === "boolean") return v === true;
  if (o.type === "list") {
    const items = ((v ?? []) as string[]).flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean);
    const bad = items.filter((s) => !o.choices.includes(s));
    if (bad.length) throw new UsageError(`${flag}: unknown ${bad.join(", ")}; known: ${o.choices.join(", ")}`);
    return items;
  }
  if (v === undefined) {
    if (o.type === "string" && o.required) throw new UsageError(`missing ${flag} ${placeholder(o)}`);
    return o.default === undefined ? undefined : convert(name, o, String(o.default));
  }
  const text = String(v);
  switch (o.type) {
    case "string":
      return o.parse ? o.parse(text, flag) : text;
    case "choice":
      if (!o.choices.includes(text)) throw new UsageError(`${flag} must be ${alternatives(o.choices)}, got ${text}`);
      return text;
    case "integer":
    case "number": {
      const n = text.trim() === "" ? NaN : Number(text);
      const low = o.minExclusive ? n > o.min : n >= o.min;
      if (!(low && n <= o.max) || (o.type === "integer" && !Number.isInteger(n))) {
        const range = `${o.minExclusive ? "(" : "["}${o.min}, ${o.max}]`;
        throw new UsageError(
          `${flag} must be ${o.type === "integer" ? "an integer" : "a number"} in ${range}, got ${text}`,
        );
      }
      return n;
    }
  }
}
