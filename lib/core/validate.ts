/**
 * Argument validation with one message template, as sharp does:
 *   "Expected positive integer for options.device but received -1 of type number"
 * Wrong types throw ArgumentTypeError, wrong values ArgumentRangeError; both carry a `code`.
 * Validation happens here, in TypeScript, before anything reaches native code (which re-checks
 * cheaply so that no input can crash the process).
 */
import { ArgumentRangeError, ArgumentTypeError, ErrorCode } from './errors.js';

/** "a" or "an" before `word` as it is read aloud: an int32 tensor, an Int8Array, a uint8 tensor, a Float32Array. */
export function withArticle(word: string): string {
  return `${/^[aeio]/i.test(word) ? 'an' : 'a'} ${word}`;
}

/** Describes a received value for error messages: `-1 of type number`, `a Float64Array`, ... */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}...` : value;
    return `${JSON.stringify(shown)} of type string`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return `${String(value)}${typeof value === 'bigint' ? 'n' : ''} of type ${typeof value}`;
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (ArrayBuffer.isView(value))
    return `${withArticle(value.constructor.name)} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : 'an object';
}

export function invalidType(
  expected: string,
  name: string,
  value: unknown,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): ArgumentTypeError {
  return new ArgumentTypeError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, code);
}

export function invalidValue(
  expected: string,
  name: string,
  value: unknown,
  code: ErrorCode = ErrorCode.INVALID_ARGUMENT,
): ArgumentRangeError {
  return new ArgumentRangeError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, code);
}

export function expectString(value: unknown, name: string, { nonEmpty = true } = {}): string {
  if (typeof value !== 'string') throw invalidType('a string', name, value);
  if (nonEmpty && value.length === 0) throw invalidValue('a non-empty string', name, value);
  return value;
}

export function expectBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidType('a boolean', name, value);
  return value;
}

/** 'auto', true or false (CUDA graph modes); a misspelt string is a range error, anything else a type error. */
export function expectAutoOrBoolean(value: unknown, name: string): 'auto' | boolean {
  if (typeof value === 'boolean' || value === 'auto') return value;
  if (typeof value === 'string') throw invalidValue('"auto", true or false', name, value);
  throw invalidType('"auto", true or false', name, value);
}

export function expectFunction<T extends (...args: never[]) => unknown>(value: unknown, name: string): T {
  if (typeof value !== 'function') throw invalidType('a function', name, value);
  return value as T;
}

interface NumberBounds {
  min?: number;
  max?: number;
}

function boundsText({ min, max }: NumberBounds): string {
  if (min !== undefined && max !== undefined) return ` between ${min} and ${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

export function expectNumber(value: unknown, name: string, bounds: NumberBounds = {}): number {
  if (typeof value !== 'number') throw invalidType('a number', name, value);
  if (!Number.isFinite(value)) throw invalidValue(`a finite number${boundsText(bounds)}`, name, value);
  if ((bounds.min !== undefined && value < bounds.min) || (bounds.max !== undefined && value > bounds.max)) {
    throw invalidValue(`a number${boundsText(bounds)}`, name, value);
  }
  return value;
}

export function expectInteger(value: unknown, name: string, bounds: NumberBounds = {}): number {
  if (typeof value !== 'number') throw invalidType('an integer', name, value);
  if (!Number.isSafeInteger(value)) throw invalidValue(`an integer${boundsText(bounds)}`, name, value);
  if ((bounds.min !== undefined && value < bounds.min) || (bounds.max !== undefined && value > bounds.max)) {
    throw invalidValue(`an integer${boundsText(bounds)}`, name, value);
  }
  return value;
}

export function expectPositiveInteger(value: unknown, name: string, max?: number): number {
  if (typeof value !== 'number') throw invalidType('a positive integer', name, value);
  if (!Number.isSafeInteger(value) || value < 1 || (max !== undefined && value > max)) {
    throw invalidValue(`a positive integer${max === undefined ? '' : ` <= ${max}`}`, name, value);
  }
  return value;
}

export function expectOneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  const expected = `one of ${allowed.map((item) => JSON.stringify(item)).join(', ')}`;
  if (typeof value !== 'string') throw invalidType(expected, name, value);
  if (!allowed.includes(value as T)) {
    const hint = closestMatch(value, allowed);
    const error = invalidValue(expected, name, value);
    if (hint) error.message += ` (did you mean ${JSON.stringify(hint)}?)`;
    throw error;
  }
  return value as T;
}

/** Accepts undefined (returns `{}`) or a plain object; anything else is a type error. */
export function expectOptions<T extends object>(value: unknown, name = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidType('an object', name, value);
  return value as Partial<T>;
}

/** Rejects keys an options object does not know, suggesting the closest known key. */
export function rejectUnknownOptions(options: object, known: readonly string[], name = 'options'): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const hint = closestMatch(key, known);
    throw new ArgumentRangeError(
      `Unknown option ${JSON.stringify(key)} in ${name}${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}; known options: ${known.join(', ')}`,
      ErrorCode.UNKNOWN_OPTION,
      { details: { option: key, suggestion: hint ?? null } },
    );
  }
}

/** Edit distance counting insertions, deletions, substitutions and adjacent swaps ("jsno" -> "json" is 1). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known word closest to `word`, when it is close enough to be a likely typo. */
export function closestMatch(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  let tied = false;
  for (const candidate of known) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
      tied = false;
    } else if (distance === bestDistance) {
      tied = true;
    }
  }
  // Words of up to four letters get one edit ("fp8" is not a typo of "fp32", nor "port" of "out",
  // two edits apart); longer ones a third of their length, at least two ("timout" -> "timeoutMs").
  const tolerance = word.length <= 4 ? 1 : Math.max(2, Math.floor(word.length / 3));
  // Two equally close candidates ("fp64": fp32 or fp16?) make a guess, not a suggestion.
  if (bestDistance <= tolerance && !tied) return best;
  // A short word may still abbreviate a known one by dropping letters ("imgs" -> "images").
  const abbreviated = known.filter((candidate) => isAbbreviation(word.toLowerCase(), candidate.toLowerCase()));
  return abbreviated.length === 1 ? abbreviated[0] : undefined;
}

/** `word` keeps the first letter of `candidate` and its other letters in order, dropping at most half ("imgs" of "images"). */
function isAbbreviation(word: string, candidate: string): boolean {
  if (word.length < 2 || word[0] !== candidate[0] || word.length >= candidate.length || word.length * 2 < candidate.length)
    return false;
  let at = 0;
  for (const letter of candidate) if (letter === word[at]) at++;
  return at === word.length;
}
