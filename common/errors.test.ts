/**
 * One error base: every error class a public face exports extends `Xcodec2Error`, and the `xcodec2` command takes
 * its exit code from that class alone (a built-in error, even a RangeError, is a bug: stack trace, 70).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { EXIT, oneLine, UsageError, Xcodec2Error } from "./errors.ts";
import { failure } from "../bin/xcodec2.ts";
import * as convert from "../convert/mod.ts";
import * as runtime from "../runtime/mod.ts";
import * as parity from "../parity/mod.ts";
import * as dataset from "../dataset/mod.ts";

test("every error class of the public faces extends Xcodec2Error and is named after itself", () => {
  const classes = Object.entries({ ...convert, ...runtime, ...parity, ...dataset })
    .filter(([name, v]) => /Error$/.test(name) && typeof v === "function") as [string, new (...a: never[]) => Error][];
  assert.ok(classes.length >= 12, `only ${classes.map(([n]) => n).join(", ")}`);
  for (const [name, cls] of classes) {
    assert.ok(cls === Xcodec2Error || cls.prototype instanceof Xcodec2Error, `${name} does not extend Xcodec2Error`);
    assert.equal(cls.name, name);
  }
  const e = new convert.ConfigError("config.json", "bad");
  assert.equal(e.name, "ConfigError");
  assert.equal(e.exitCode, EXIT.failed);
});

test("the command's exit code and line come from the error class", () => {
  assert.deepEqual(failure("encode", new UsageError("missing <model>")), {
    code: EXIT.usage,
    text: "xcodec2 encode: missing <model>",
  });
  const typed = failure("convert", new convert.ConversionError("no tensors", { file: "a.safetensors" }));
  assert.deepEqual(typed, { code: 1, text: "xcodec2 convert: a.safetensors: no tensors" });
  class Custom extends Xcodec2Error {
    override readonly exitCode = 3;
  }
  assert.equal(failure("x", new Custom("m")).code, 3);
  const bug = failure("export", new RangeError("index out of range"));
  assert.equal(bug.code, EXIT.bug);
  assert.match(bug.text, /^xcodec2 export: RangeError: index out of range\n\s+at /);
  assert.equal(failure("x", "a string").code, EXIT.bug);
});

test("a config value the graphs cannot take is a typed ConfigError, not a RangeError deep in the builder", () => {
  const cfg = { ...convert.buildXcodec2Config(convert.realModelArchitecture()), quantization_levels: [4, 1] };
  assert.throws(() => convert.parseXcodec2Config(cfg, "config.json"), (e: Error) => {
    assert.ok(e instanceof convert.ConfigError);
    assert.match(e.message, /^config\.json: quantization_levels must all be at least 2/);
    return true;
  });
});

test("messages print as one line", () => {
  assert.equal(oneLine("a\n  b\nc"), "a; b; c");
});
