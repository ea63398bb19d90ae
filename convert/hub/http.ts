/**
 * The fetch the Hub library is given.
 *
 * The library uploads files as lazy Blob subclasses (its FileBlob reads the file on demand through `stream()`).
 * Deno's and Node's fetch call `stream()` on such a body; Bun's fetch reads the Blob's native store instead, which is
 * empty for a JS subclass, so it sends 0 bytes (seen with Bun 1.4: the LFS PUT arrives with content-length 0).
 * Under Bun we therefore hand fetch the blob's stream and its length explicitly.
 */

const IS_BUN = typeof process !== "undefined" && typeof process.versions?.bun === "string";

function isLazyBlob(body: unknown): body is Blob {
  return body instanceof Blob && Object.getPrototypeOf(body) !== Blob.prototype && !(body instanceof File);
}

export function libraryFetch(base: typeof fetch = globalThis.fetch): typeof fetch {
  const wrapped = (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    if (IS_BUN && init && isLazyBlob(init.body)) {
      const blob = init.body;
      const headers = new Headers(init.headers);
      headers.set("content-length", String(blob.size));
      init = { ...init, body: blob.stream(), headers, duplex: "half" } as RequestInit;
    }
    return base(input, init);
  };
  return wrapped as typeof fetch;
}
