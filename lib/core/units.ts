/**
 * Byte sizes and durations as people write them on a command line ("2GiB", "30d", "1h30m"), parsed
 * strictly: anything ambiguous or malformed is an ArgumentRangeError with the usual message template,
 * never a silent guess. The one grammar of each for every command (`cache prune --max-size
 * --older-than`, `build --workspace`, `bench --warmup --duration`), and the one check of every
 * duration option given in milliseconds (`expectDurationMs`).
 */
import { invalidType, invalidValue } from './validate.js';

/**
 * The longest delay a Node.js timer can wait, 2^31-1 ms (about 24.8 days). setTimeout and
 * setInterval treat anything longer (or NaN) as 1 ms, with a TimeoutOverflowWarning: a deadline of
 * 2^32 ms would fire at once. Every duration option is checked against it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DurationCheck {
  /** Refuse 0 (lock timeouts: waiting 0 ms is no wait at all). Default false: 0 is accepted. */
  positive?: boolean;
  /** Accept Infinity, meaning "no limit" (no timer at all). Default false. */
  allowInfinity?: boolean;
}

/**
 * The one check of a duration option given in milliseconds (`timeoutMs`, `maxDelayMs`,
 * `lockTimeoutMs`, ...): a number from 0 (or above 0 with `positive`) to MAX_TIMER_MS, or Infinity
 * where that means "no limit". A TypeError for a non-number, a RangeError for NaN, negative or
 * out-of-range values, with the range in the message.
 */
export function expectDurationMs(
  value: unknown,
  name: string,
  { positive = false, allowInfinity = false }: DurationCheck = {},
): number {
  const expected = `${positive ? 'a positive' : 'a'} number of milliseconds up to ${MAX_TIMER_MS} (about 24.8 days, the longest a timer can wait)${allowInfinity ? ' or Infinity for no limit' : ''}`;
  if (typeof value !== 'number') throw invalidType(expected, name, value);
  if (value === Infinity && allowInfinity) return value;
  if (Number.isNaN(value) || value < 0 || (positive && value === 0) || value > MAX_TIMER_MS)
    throw invalidValue(expected, name, value);
  return value;
}

const byteUnits: Record<string, number> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

const byteSizeExpected = 'a byte size such as 512MiB, 2GiB, 1.5GB or 1000000';

/**
 * Parses "2GiB" (IEC, 1024-based), "2GB" (SI, 1000-based), "2G" (1024-based, as docker and most
 * CLIs read it) or a plain count of bytes. Fractions are allowed with a unit ("1.5GiB") and rounded
 * down to whole bytes; negative, empty, unknown units and sizes beyond 2^53 are refused.
 */
export function parseByteSize(text: unknown, name: string): number {
  if (typeof text !== 'string') throw invalidType(`${byteSizeExpected} (a string)`, name, text);
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const multiplier = match ? byteUnits[(match[2] ?? '').toLowerCase() || 'b'] : undefined;
  if (!match || multiplier === undefined) throw invalidValue(byteSizeExpected, name, text);
  const bytes = Math.floor(Number(match[1]) * multiplier);
  if (!Number.isSafeInteger(bytes)) throw invalidValue(`${byteSizeExpected}, below 8 PiB`, name, text);
  return bytes;
}

const durationUnits: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const durationExpected = 'a duration such as 250ms, 3s, 1.5m or 1h30m';

export interface DurationRange {
  /** Smallest accepted duration in milliseconds (default 0). */
  minMs?: number;
  /** Largest accepted duration in milliseconds (default: any that fits a safe integer). */
  maxMs?: number;
}

/**
 * Parses "250ms", "3s", "1.5m", "12h", "30d", "2w" and sums like "1h30m" into milliseconds (units:
 * ms, s, m, h, d, w; case and surrounding spaces ignored). A bare number is refused: "30" could be
 * milliseconds, seconds or days, and guessing wrong deletes the wrong cache entries or runs a
 * benchmark for hours. Zero is the exception ("0" is 0 in every unit: `bench --duration 0`). Out of
 * `range`, the message names the bounds.
 */
export function parseDuration(text: unknown, name: string, { minMs = 0, maxMs }: DurationRange = {}): number {
  if (typeof text !== 'string') throw invalidType(`${durationExpected} (a string)`, name, text);
  const compact = text.trim().toLowerCase();
  if (/^0+(?:\.0+)?$/.test(compact)) {
    if (minMs > 0)
      throw invalidValue(
        maxMs === undefined
          ? `a duration of at least ${formatDuration(minMs)}`
          : `a duration between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
        name,
        text,
      );
    return 0;
  }
  const partPattern = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let consumed = 0;
  for (let part = partPattern.exec(compact); part; part = partPattern.exec(compact)) {
    total += Number(part[1]) * durationUnits[part[2]!]!;
    consumed = partPattern.lastIndex;
  }
  if (compact.length === 0 || consumed !== compact.length) throw invalidValue(durationExpected, name, text);
  const milliseconds = Math.round(total);
  if (!Number.isSafeInteger(milliseconds)) throw invalidValue(`${durationExpected}, below 285,000 years`, name, text);
  if (milliseconds < minMs || (maxMs !== undefined && milliseconds > maxMs)) {
    throw invalidValue(
      maxMs === undefined
        ? `a duration of at least ${formatDuration(minMs)}`
        : `a duration between ${formatDuration(minMs)} and ${formatDuration(maxMs)}`,
      name,
      text,
    );
  }
  return milliseconds;
}

/** 1536 -> "1.5 KiB"; whole bytes below 1 KiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 93_784_000 -> "1d 2h 3m 4s"; milliseconds only below one second. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)}ms`;
  const parts: string[] = [];
  let rest = Math.round(milliseconds / 1000);
  for (const [unit, seconds] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  return parts.join(' ');
}
