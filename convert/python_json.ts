/**
 * JSON text the way transformers' `save_pretrained` writes it (`json.dumps(indent=2, sort_keys=True) + "\n"`):
 * sorted keys, 2-space indent, Python float repr (`0.0`, `1e-05`, `10000.0`). JavaScript numbers do not remember
 * whether they were floats, so the caller names the keys whose values are floats.
 */

export function pythonJson(value: unknown, floatKeys: ReadonlySet<string>): string {
  return write(value, "", floatKeys, false) + "\n";
}

function write(v: unknown, indent: string, floatKeys: ReadonlySet<string>, asFloat: boolean): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return asFloat ? pyFloat(v) : pyNumber(v);
  if (typeof v === "string") {
    return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  const inner = indent + "  ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[]";
    return `[\n${v.map((x) => inner + write(x, inner, floatKeys, asFloat)).join(",\n")}\n${indent}]`;
  }
  const keys = Object.keys(v as object).sort();
  if (keys.length === 0) return "{}";
  const rec = v as Record<string, unknown>;
  return `{\n${
    keys.map((k) => `${inner}${JSON.stringify(k)}: ${write(rec[k], inner, floatKeys, floatKeys.has(k))}`).join(",\n")
  }\n${indent}}`;
}

function pyNumber(x: number): string {
  return Number.isInteger(x) ? String(x) : pyFloat(x);
}

/** Python's float repr: shortest round-trip digits; exponent form below 1e-4 or from 1e16 on. */
export function pyFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mant, expStr] = x.toExponential().split("e") as [string, string];
  const exp = Number(expStr);
  const neg = mant.startsWith("-");
  const digits = mant.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = `${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
    return `${neg ? "-" : ""}${m}e${e}`;
  }
  let s: string;
  if (exp < 0) s = `0.${"0".repeat(-exp - 1)}${digits}`;
  else if (digits.length <= exp + 1) s = `${digits}${"0".repeat(exp + 1 - digits.length)}.0`;
  else s = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  return (neg ? "-" : "") + s;
}
