/**
 * JSON.parse silently keeps the last of two equal keys, so a header could smuggle two definitions of one tensor. This
 * scanner walks the JSON text once (strings, escapes, nesting) and reports the first key repeated inside one object.
 * It assumes syntactically valid JSON (JSON.parse runs first and rejects the rest).
 */
export function findDuplicateKey(text: string): string | undefined {
  const stack: Array<Set<string> | null> = []; // a Set per open object, null per open array
  let expectKey = false;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      const raw = text.slice(start, i + 1);
      i++;
      const top = stack[stack.length - 1];
      if (expectKey && top) {
        const key = JSON.parse(raw) as string;
        if (top.has(key)) return key;
        top.add(key);
        expectKey = false;
      }
      continue;
    }
    if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] instanceof Set;
    }
    i++;
  }
  return undefined;
}
