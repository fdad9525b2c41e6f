/**
 * A pass over JSON bytes that bounds what parsing them would build, before anything is built.
 * `JSON.parse` of an 8 MiB body of empty arrays takes most of a second and a hundred MB of heap, and a
 * body nested 100,000 deep overflows the stack of any recursive code that walks the result: both are
 * refused here, by counting, in one linear pass that allocates nothing.
 *
 * Counted outside strings: nesting depth (`[` and `{`), elements (every `,` plus every container, an
 * upper bound on the values the document holds) and empty containers (`[]`, `{}`). Tensor data never
 * needs many empty containers: every innermost array of a non-empty tensor holds a value, so a body
 * made of empty arrays is refused for what it is. The pass does not check that the JSON is
 * well-formed; `JSON.parse` does that afterwards, on a document now known to be bounded.
 */
import { ArgumentRangeError, ErrorCode } from '../core/errors.js';

export interface JsonLimits {
  /** Deepest nesting of arrays and objects (default 64). */
  maxDepth: number;
  /** Most elements (values and containers) in the document (default 16,777,216). */
  maxElements: number;
  /** Most empty arrays and objects (default 1,024). */
  maxEmptyContainers: number;
}

export const DEFAULT_JSON_LIMITS: Readonly<JsonLimits> = Object.freeze({
  maxDepth: 64,
  maxElements: 16_777_216,
  maxEmptyContainers: 1024,
});

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const COMMA = 0x2c;

function tooLarge(expected: string, name: string, limit: number, received: string): ArgumentRangeError {
  return new ArgumentRangeError(`Expected ${expected} for ${name} but received ${received}`, ErrorCode.INVALID_ARGUMENT, {
    details: { limit },
  });
}

/** Throws ArgumentRangeError (ERR_INVALID_ARGUMENT) when `bytes` would exceed `limits` once parsed. */
export function checkJsonLimits(bytes: Uint8Array, limits: JsonLimits = DEFAULT_JSON_LIMITS, name = 'the request body'): void {
  let depth = 0;
  let elements = 0;
  let empty = 0;
  let inString = false;
  // The last byte outside strings and whitespace: an opener followed by its closer is an empty container.
  let previous = 0;
  for (let index = 0; index < bytes.length; index++) {
    const byte = bytes[index]!;
    if (inString) {
      if (byte === BACKSLASH) index++;
      else if (byte === QUOTE) inString = false;
      continue;
    }
    switch (byte) {
      case QUOTE:
        inString = true;
        break;
      case OPEN_ARRAY:
      case OPEN_OBJECT:
        if (++depth > limits.maxDepth)
          throw tooLarge(`JSON nested at most ${limits.maxDepth} deep`, name, limits.maxDepth, `deeper nesting at byte ${index}`);
        if (++elements > limits.maxElements)
          throw tooLarge(`at most ${limits.maxElements} JSON elements`, name, limits.maxElements, `more by byte ${index}`);
        break;
      case CLOSE_ARRAY:
      case CLOSE_OBJECT:
        depth--;
        if ((previous === OPEN_ARRAY && byte === CLOSE_ARRAY) || (previous === OPEN_OBJECT && byte === CLOSE_OBJECT)) {
          if (++empty > limits.maxEmptyContainers)
            throw tooLarge(
              `at most ${limits.maxEmptyContainers} empty JSON arrays or objects (tensor data has a value in every innermost array)`,
              name,
              limits.maxEmptyContainers,
              `more by byte ${index}`,
            );
        }
        break;
      case COMMA:
        if (++elements > limits.maxElements)
          throw tooLarge(`at most ${limits.maxElements} JSON elements`, name, limits.maxElements, `more by byte ${index}`);
        break;
      case 0x20:
      case 0x0a:
      case 0x0d:
      case 0x09:
        continue;
    }
    previous = byte;
  }
}
