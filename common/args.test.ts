/** The declarative argument parser every `xcodec2` command uses. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { alternatives, Command } from "./args.ts";
import { EXIT, UsageError } from "./errors.ts";

const cmd = new Command({
  name: "demo-cmd",
  summary: "A command to test the parser with.",
  positionals: [{ name: "model", help: "the model" }, { name: "inputs", help: "files", variadic: true }],
  options: {
    out: { type: "string", short: "o", value: "PATH", required: true, help: "where to write" },
    device: { type: "choice", choices: ["cpu", "webgpu", "cuda", "auto"], default: "auto", help: "where to run" },
    "batch-size": { type: "integer", min: 1, max: 1024, default: 8, help: "items per call" },
    seconds: { type: "number", min: 0, minExclusive: true, max: 600, help: "longest clip" },
    size: {
      type: "string",
      parse: (t, flag) => {
        if (!/^\d+$/.test(t)) throw new UsageError(`${flag}: not a size: ${t}`);
        return Number(t);
      },
      help: "a size",
    },
    force: { type: "boolean", help: "overwrite" },
  },
});

const usageError = (argv: string[], message: RegExp) =>
  assert.throws(() => cmd.parse(argv), (e: Error) => e instanceof UsageError && message.test(e.message));

test("typed values, defaults, short options and inline values", () => {
  const { positionals, values } = cmd.parse(["m", "a", "b", "-o", "x", "--batch-size=3", "--size", "12", "--force"]);
  assert.deepEqual(positionals, ["m", "a", "b"]);
  assert.deepEqual(values, { out: "x", device: "auto", "batch-size": 3, seconds: undefined, size: 12, force: true });
  const b: number = values["batch-size"];
  const d: "cpu" | "webgpu" | "cuda" | "auto" = values.device;
  assert.equal(b + d.length, 7);
  assert.equal(cmd.parse(["m", "a", "--out", "x", "--seconds", "0.5"]).values.seconds, 0.5);
});

test("every bad argument is a UsageError naming it", () => {
  usageError(["m", "a"], /^missing --out PATH$/);
  usageError(["m"], /^missing <inputs>$/);
  usageError(["--out", "x"], /^missing <model>$/);
  usageError(["m", "a", "--out", "x", "--device", "tpu"], /^--device must be cpu, webgpu, cuda or auto, got tpu$/);
  usageError(["m", "a", "--out", "x", "--batch-size", "0"], /^--batch-size must be an integer in \[1, 1024\], got 0$/);
  usageError(["m", "a", "--out", "x", "--batch-size", "2.5"], /must be an integer/);
  usageError(["m", "a", "--out", "x", "--batch-size", ""], /must be an integer/);
  usageError(["m", "a", "--out", "x", "--seconds", "0"], /^--seconds must be a number in \(0, 600\], got 0$/);
  usageError(["m", "a", "--out", "x", "--size", "big"], /^--size: not a size: big$/);
  usageError(["m", "a", "--out", "x", "--bogus"], /^Unknown option '--bogus'/);
  usageError(["m", "a", "--out"], /--out/);
  usageError(["m", "a", "--force=yes", "--out", "x"], /--force/);
});

test("without a variadic positional, extra arguments are refused", () => {
  const one = new Command({ name: "one", summary: "s", positionals: [{ name: "dir", help: "d" }], options: {} });
  assert.deepEqual(one.parse(["d"]).positionals, ["d"]);
  assert.throws(() => one.parse(["d", "e"]), /unexpected argument "e"/);
});

test("usage and help are generated from the spec", () => {
  assert.equal(cmd.usage(), "usage: xcodec2 demo-cmd <model> <inputs>... --out PATH [options]");
  const help = cmd.help();
  assert.match(help, /^usage: xcodec2 demo-cmd/);
  assert.match(help, /\n {2}-o, --out PATH\s+where to write\n/);
  assert.match(help, /--device cpu\|webgpu\|cuda\|auto\s+where to run \(default auto\)/);
  assert.match(help, /--batch-size N\s+items per call \(default 8\)/);
  assert.match(help, /-h, --help\s+this help/);
  assert.equal(alternatives(["a"]), "a");
  assert.equal(alternatives(["a", "b", "c"]), "a, b or c");
});

test("run: --help exits 0, a usage error prints one line and exits 2, other errors propagate", async () => {
  const printed: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (m: string) => printed.push(`out ${m}`);
  console.error = (m: string) => printed.push(`err ${m}`);
  try {
    assert.equal(await cmd.run(["--help"], () => Promise.resolve(9)), EXIT.ok);
    assert.match(printed.pop()!, /^out usage: xcodec2 demo-cmd/);
    assert.equal(await cmd.run(["m", "a", "--out", "x"], ({ values }) => Promise.resolve(values["batch-size"])), 8);
    assert.equal(await cmd.run(["m"], () => Promise.resolve(0)), EXIT.usage);
    assert.equal(
      printed.pop(),
      "err xcodec2 demo-cmd: missing <inputs>; usage: xcodec2 demo-cmd <model> <inputs>... --out PATH [options]",
    );
    const body = () => Promise.reject(new UsageError("two items would be written to one file"));
    assert.equal(await cmd.run(["m", "a", "--out", "x"], body), EXIT.usage);
    assert.match(printed.pop()!, /^err xcodec2 demo-cmd: two items would be written to one file; usage: /);
    await assert.rejects(cmd.run(["m", "a", "--out", "x"], () => Promise.reject(new TypeError("bug"))), TypeError);
    assert.equal(printed.length, 0);
  } finally {
    [console.log, console.error] = [log, error];
  }
});

test("list options take repeated and comma-separated values from their choices; scripts name their own program", () => {
  const fuzz = new Command({
    name: "fuzz",
    program: "npm run fuzz --",
    summary: "s",
    positionals: [],
    options: { target: { type: "list", choices: ["zip", "audio", "codes"], help: "targets" } },
  });
  assert.deepEqual(fuzz.parse([]).values.target, []);
  assert.deepEqual(fuzz.parse(["--target", "zip,codes", "--target", "audio"]).values.target, ["zip", "codes", "audio"]);
  assert.throws(
    () => fuzz.parse(["--target", "zip,pdf"]),
    /^UsageError: --target: unknown pdf; known: zip, audio, codes$/,
  );
  assert.equal(fuzz.usage(), "usage: npm run fuzz -- [options]");
});
