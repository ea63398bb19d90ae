import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { buildOnTensorCheckpoint, maliciousCheckpoints } from "../../fixtures/pickle/checkpoints.ts";
import { OP, PickleWriter } from "../../fixtures/pickle/pickle_writer.ts";
import { openPickleCheckpoint, PickleSecurityError } from "./mod.ts";
import { unpickle } from "./unpickler.ts";

const noStorage = { persistentLoad: (): never => assert.fail("no storage expected") };

describe("malicious pickles are refused and nothing runs", () => {
  test("os.system, posix.system, eval, exec, Popen, STACK_GLOBAL, INST, REDUCE, BUILD, unknown opcode", async () => {
    // The payloads, run by Python's pickle (torch.load with weights_only=False), would `touch` this file.
    const marker = join(tmpdir(), `xcodec2-pwned-${randomBytes(8).toString("hex")}`);
    const dir = mkdtempSync(join(tmpdir(), "xcodec2-malicious-"));
    try {
      const fixtures = maliciousCheckpoints(marker);
      assert.equal(fixtures.length, 10);
      for (const f of fixtures) {
        const path = join(dir, `${f.name}.bin`);
        writeFileSync(path, f.bytes);
        // the payload really is in the file
        if (f.name !== "unknown_opcode" && f.name !== "build_on_list") {
          assert.ok(Buffer.from(f.bytes).includes(marker), f.name);
        }
        await assert.rejects(openPickleCheckpoint(path), (e: Error) => {
          assert.ok(e instanceof PickleSecurityError, `${f.name}: ${e}`);
          assert.ok(e.message.includes(f.names), `${f.name}: message names ${f.names}: ${e.message}`);
          assert.ok(e.message.includes(path), `${f.name}: message names the file`);
          return true;
        });
      }
      const tensorBuild = join(dir, "build_on_tensor.bin");
      writeFileSync(tensorBuild, buildOnTensorCheckpoint());
      await assert.rejects(openPickleCheckpoint(tensorBuild), /BUILD \(__setstate__\) on tensor is not allowed/);
      assert.equal(existsSync(marker), false, "the payload's marker file must not exist");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(marker, { force: true });
    }
  });

  test("allow-listed values cannot be abused: NEWOBJ of a storage type, REDUCE of a tensor, a type as a call", () => {
    const cases: Array<[string, Uint8Array, RegExp]> = [
      [
        "newobj storage",
        new PickleWriter().byte(OP.PROTO, 2).global("torch", "FloatStorage").byte(OP.EMPTY_TUPLE, OP.NEWOBJ, OP.STOP)
          .finish(),
        /instantiating "torch.FloatStorage" is not allowed/,
      ],
      [
        "reduce dict type",
        new PickleWriter().byte(OP.PROTO, 2).global("builtins", "dict").byte(OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP)
          .finish(),
        /REDUCE \(call\) of "builtins.dict"/,
      ],
      [
        "reduce a string",
        new PickleWriter().byte(OP.PROTO, 2).str("os.system").byte(OP.EMPTY_TUPLE, OP.REDUCE, OP.STOP).finish(),
        /REDUCE on str/,
      ],
      [
        "getattr",
        new PickleWriter().byte(OP.PROTO, 2).global("builtins", "getattr").byte(OP.STOP).finish(),
        /"builtins.getattr" is not allowed/,
      ],
      [
        "torch.load",
        new PickleWriter().byte(OP.PROTO, 2).global("torch", "load").byte(OP.STOP).finish(),
        /"torch.load" is not allowed/,
      ],
      ["ext1", Uint8Array.from([0x80, 2, 0x82, 1, 0x2e]), /opcode EXT1 is not supported/],
    ];
    for (const [name, bytes, re] of cases) {
      assert.throws(
        () => unpickle(bytes, `case ${name}`, noStorage),
        (e: Error) => e instanceof PickleSecurityError && re.test(e.message),
        name,
      );
    }
  });

  test("the unpickler decodes the scalar opcodes torch and Lightning use", () => {
    const w = new PickleWriter().byte(OP.PROTO, 2).byte(OP.MARK);
    w.value(-5).value(70000).value(300).value(2n ** 70n).value(-(2n ** 63n)).value({ float: -1.5e-7 }).value(null)
      .value(true);
    w.value("µ-law ✓").value({ tuple: [1, 2, 3, 4] }).byte(OP.LIST, OP.STOP);
    const out = unpickle(w.finish(), "scalars", noStorage) as unknown[];
    assert.deepEqual(out.slice(0, 9), [-5, 70000, 300, 2n ** 70n, -(2n ** 63n), -1.5e-7, null, true, "µ-law ✓"]);
  });
});
