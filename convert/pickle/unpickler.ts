/**
 * A restricted unpickler: a pickle virtual machine that implements the opcodes a PyTorch state dict uses
 * (protocol 2 as torch.save writes it, plus the protocol 3–4 framing, bytes and memo opcodes) and builds only inert
 * values (values.ts). Globals are resolved against allowlist.ts and nothing else; REDUCE, NEWOBJ and BUILD apply only
 * to allow-listed callables and classes, implemented by us. Text-mode opcodes (protocol 0), INST/OBJ, extension
 * registry codes and out-of-band buffers are refused: torch never writes them.
 *
 * Work is linear in the pickle's length (every push costs at least one input byte) and every length field is
 * checked against the bytes that remain before anything is allocated.
 */

import { lookupGlobal } from "./allowlist.ts";
import { PickleError, PickleSecurityError } from "./errors.ts";
import { describe, PyDict, PyGlobal, PyObject, PySet, PyTuple, type PyValue, StorageRef } from "./values.ts";

/** opcode byte → name, for messages; only the ones we implement are executed. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

/** Width in bytes of the length that prefixes the data of each counted string and bytes opcode. */
const LENGTH_WIDTH: Record<number, 1 | 4 | 8> = {
  0x43: 1, // SHORT_BINBYTES
  0x55: 1, // SHORT_BINSTRING
  0x8c: 1, // SHORT_BINUNICODE
  0x42: 4, // BINBYTES
  0x54: 4, // BINSTRING
  0x58: 4, // BINUNICODE
  0x8d: 8, // BINUNICODE8
  0x8e: 8, // BINBYTES8
  0x96: 8, // BYTEARRAY8
};

const utf8 = new TextDecoder("utf-8");
const latin1 = new TextDecoder("latin1");

export interface UnpickleOptions {
  /** Called for BINPERSID with the persistent id; returns the storage it names. */
  persistentLoad(pid: PyValue): StorageRef;
}

/**
 * Run the pickle in `data` and return the object STOP yields.
 * `source` names the file (and entry) in every error message.
 */
export function unpickle(data: Uint8Array, source: string, options: UnpickleOptions): PyValue {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  // MARK positions are kept beside the stack (as Python's metastack does), never on it.
  const stack: PyValue[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let pos = 0;
  let opStart = 0;
  let op = 0;

  const opName = (): string => OPCODE_NAMES[op] ?? "unknown";
  const where = (): string =>
    `${source}: pickle opcode ${opName()} (0x${op.toString(16).padStart(2, "0")}) at byte ${opStart}`;
  const fail = (msg: string): never => {
    throw new PickleError(`${where()}: ${msg}`);
  };
  const need = (n: number): number => {
    if (n < 0 || pos + n > data.length) fail(`needs ${n} more bytes but the pickle ends at byte ${data.length}`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = (): number => data[need(1)];
  const u16 = (): number => view.getUint16(need(2), true);
  const i32 = (): number => view.getInt32(need(4), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const n = view.getBigUint64(need(8), true);
    if (n > BigInt(data.length)) fail(`length ${n} exceeds the pickle's size`);
    return Number(n);
  };
  const bytes = (n: number): Uint8Array => data.subarray(need(n), pos);
  /** The data of a counted string or bytes opcode, after its length (`LENGTH_WIDTH`). */
  const counted = (): Uint8Array => {
    const width = LENGTH_WIDTH[op];
    return bytes(width === 1 ? u8() : width === 4 ? u32() : u64());
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) fail("unterminated text argument");
    const s = utf8.decode(data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail("stack underflow");
    return stack.pop()!;
  };
  const top = (): PyValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail("stack underflow");
    return stack[stack.length - 1];
  };
  const popMark = (): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) fail("no MARK on the stack");
    return stack.splice(m!);
  };
  const push = (v: PyValue): void => {
    stack.push(v);
  };
  const resolveGlobal = (module: string, name: string): PyGlobal => {
    if (!lookupGlobal(module, name)) {
      throw new PickleSecurityError(
        `${where()}: global "${module}.${name}" is not allowed in a checkpoint (a state dict never needs it); refusing to load, nothing was executed`,
      );
    }
    return new PyGlobal(module, name);
  };
  const setItems = (target: PyValue, items: PyValue[]): void => {
    if (!(target instanceof PyDict)) fail(`target must be a dict, got ${describe(target)}`);
    if (items.length % 2 !== 0) fail("odd number of items for a dict");
    for (let i = 0; i < items.length; i += 2) (target as PyDict).map.set(items[i], items[i + 1]);
  };
  const appendItems = (target: PyValue, items: PyValue[]): void => {
    if (!Array.isArray(target)) fail(`target must be a list, got ${describe(target)}`);
    for (const x of items) (target as PyValue[]).push(x);
  };
  const instantiate = (cls: PyValue, args: PyValue): PyValue => {
    if (!(cls instanceof PyGlobal)) fail(`class must be a global, got ${describe(cls)}`);
    const g = cls as PyGlobal;
    const allowed = lookupGlobal(g.module, g.name);
    if (allowed?.kind !== "class") {
      throw new PickleSecurityError(`${where()}: instantiating "${g.qualified}" is not allowed; refusing to load`);
    }
    if (!(args instanceof PyTuple)) fail(`arguments must be a tuple, got ${describe(args)}`);
    return allowed.dictLike ? new PyDict(g) : new PyObject(g, (args as PyTuple).items);
  };

  for (;;) {
    if (pos >= data.length) {
      opStart = pos;
      throw new PickleError(`${source}: pickle ends at byte ${pos} without a STOP opcode (truncated file?)`);
    }
    opStart = pos;
    op = data[pos++];
    switch (op) {
      case 0x80: { // PROTO
        const v = u8();
        if (v > 5) fail(`unsupported pickle protocol ${v}`);
        break;
      }
      case 0x95: // FRAME: a length hint for buffering; the frame's opcodes follow inline
        u64();
        break;
      case 0x2e: { // STOP
        return pop();
      }
      case 0x28: // MARK
        marks.push(stack.length);
        break;
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        push(top());
        break;
      case 0x4e:
        push(null);
        break; // NONE
      case 0x88:
        push(true);
        break; // NEWTRUE
      case 0x89:
        push(false);
        break; // NEWFALSE
      case 0x4a:
        push(i32());
        break; // BININT
      case 0x4b:
        push(u8());
        break; // BININT1
      case 0x4d:
        push(u16());
        break; // BININT2
      case 0x8a: // LONG1
      case 0x8b: { // LONG4
        const n = op === 0x8a ? u8() : u32();
        if (n > 64) fail(`integer of ${n} bytes is too large for a checkpoint`);
        const b = bytes(n);
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47:
        push(view.getFloat64(need(8), false));
        break; // BINFLOAT (big-endian)
      case 0x8c: // SHORT_BINUNICODE
      case 0x58: // BINUNICODE
      case 0x8d: // BINUNICODE8
        push(utf8.decode(counted()));
        break;
      case 0x55: // SHORT_BINSTRING
      case 0x54: // BINSTRING (Python 2 str)
        push(latin1.decode(counted()));
        break;
      case 0x43: // SHORT_BINBYTES
      case 0x42: // BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        push(counted().slice());
        break;
      case 0x7d:
        push(new PyDict());
        break; // EMPTY_DICT
      case 0x5d:
        push([]);
        break; // EMPTY_LIST
      case 0x29:
        push(new PyTuple([]));
        break; // EMPTY_TUPLE
      case 0x8f:
        push(new PySet([], false));
        break; // EMPTY_SET
      case 0x64: { // DICT
        const d = new PyDict();
        setItems(d, popMark());
        push(d);
        break;
      }
      case 0x6c:
        push(popMark());
        break; // LIST
      case 0x74:
        push(new PyTuple(popMark()));
        break; // TUPLE
      case 0x85:
        push(new PyTuple([pop()]));
        break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x91:
        push(new PySet(popMark(), true));
        break; // FROZENSET
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof PySet) || s.frozen) fail(`target must be a set, got ${describe(s)}`);
        (s as PySet).items.push(...items);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71:
        memo.set(u8(), top());
        break; // BINPUT
      case 0x72:
        memo.set(u32(), top());
        break; // LONG_BINPUT
      case 0x94:
        memo.set(memo.size, top());
        break; // MEMOIZE
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const i = op === 0x68 ? u8() : u32();
        if (!memo.has(i)) fail(`memo slot ${i} is empty`);
        push(memo.get(i)!);
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        const name = line();
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") fail("module and name must be strings");
        push(resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) {
          throw new PickleSecurityError(`${where()}: REDUCE on ${describe(fn)} is not allowed; refusing to load`);
        }
        const allowed = lookupGlobal(fn.module, fn.name);
        if (allowed?.kind !== "call") {
          throw new PickleSecurityError(
            `${where()}: REDUCE (call) of "${fn.qualified}" is not allowed; refusing to load, nothing was executed`,
          );
        }
        if (!(args instanceof PyTuple)) fail(`arguments of ${fn.qualified} must be a tuple, got ${describe(args)}`);
        try {
          push(allowed.call((args as PyTuple).items, fn));
        } catch (err) {
          if (err instanceof PickleError) fail(err.message);
          throw err;
        }
        break;
      }
      case 0x81: // NEWOBJ: cls, args
      case 0x92: { // NEWOBJ_EX: cls, args, kwargs
        const kwargs = op === 0x92 ? pop() : undefined;
        const args = pop();
        const cls = pop();
        if (kwargs !== undefined && (!(kwargs instanceof PyDict) || kwargs.map.size > 0)) {
          fail("keyword arguments are not supported");
        }
        push(instantiate(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj instanceof PyDict && obj.cls !== undefined) {
          obj.attrs = state; // OrderedDict._metadata, AttributeDict.__dict__: kept, never interpreted
        } else if (obj instanceof PyObject) {
          obj.state = state;
        } else {
          throw new PickleSecurityError(
            `${where()}: BUILD (__setstate__) on ${describe(obj)} is not allowed; refusing to load`,
          );
        }
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        try {
          push(options.persistentLoad(pid));
        } catch (err) {
          if (err instanceof PickleError && !(err instanceof PickleSecurityError)) fail(err.message);
          throw err;
        }
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        throw new PickleSecurityError(
          name
            ? `${where()}: opcode ${name} is not supported by the restricted unpickler (torch.save never writes it); refusing to load`
            : `${where()}: unknown pickle opcode; refusing to load`,
        );
      }
    }
  }
}
