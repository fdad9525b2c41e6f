import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import {
  expectDurationMs,
  formatBytes,
  formatDuration,
  MAX_TIMER_MS,
  parseByteSize,
  parseDuration,
} from '../../lib/core/units.js';
import { expectErrorSync } from '../helpers/expect-error.js';

describe('parseByteSize', () => {
  it.each([
    ['0', 0],
    ['1000000', 1_000_000],
    ['512B', 512],
    ['2GiB', 2 * 1024 ** 3],
    ['2gib', 2 * 1024 ** 3],
    ['2G', 2 * 1024 ** 3],
    ['2GB', 2_000_000_000],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['300 MiB', 300 * 1024 ** 2],
    ['64k', 65536],
    ['1KB', 1000],
    ['1TiB', 1024 ** 4],
    ['0.5B', 0],
  ])('reads %s as %d bytes', (text, bytes) => {
    expect(parseByteSize(text, '--max-size')).toBe(bytes);
  });

  it.each([['-1GiB'], ['2XB'], [''], ['GiB'], ['1e9'], ['2 GiB x'], ['1,5GiB']])('BAD CALL - refuses %j', (text) => {
    expectErrorSync(
      () => parseByteSize(text, '--max-size'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 for --max-size but received ${JSON.stringify(text)} of type string`,
    );
  });

  it('BAD CALL - refuses sizes beyond 2^53 bytes and non-strings', () => {
    expectErrorSync(
      () => parseByteSize('9000000TiB', '--max-size'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000, below 8 PiB for --max-size but received "9000000TiB" of type string',
    );
    expectErrorSync(
      () => parseByteSize(5, 'workspace'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a byte size such as 512MiB, 2GiB, 1.5GB or 1000000 (a string) for workspace but received 5 of type number',
    );
  });
});

describe('parseDuration', () => {
  it.each([
    ['30d', 30 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['90m', 90 * 60_000],
    ['1h30m', 90 * 60_000],
    ['1d12h', 36 * 3_600_000],
    ['45s', 45_000],
    ['500ms', 500],
    ['2w', 14 * 86_400_000],
    ['1.5h', 90 * 60_000],
    ['0s', 0],
    [' 7D ', 7 * 86_400_000],
  ])('reads %s as %d ms', (text, milliseconds) => {
    expect(parseDuration(text, '--older-than')).toBe(milliseconds);
  });

  it.each([['30'], ['30 days'], ['-1d'], [''], ['d'], ['1h 30m'], ['3x'], ['1y']])('BAD CALL - refuses %j', (text) => {
    expectErrorSync(
      () => parseDuration(text, '--older-than'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected a duration such as 250ms, 3s, 1.5m or 1h30m for --older-than but received ${JSON.stringify(text)} of type string`,
    );
  });

  it('keeps to a range when given one', () => {
    expect(parseDuration('1m', '--warmup', { maxMs: 60_000 })).toBe(60_000);
    expect(parseDuration('1.5s', '--warmup', { minMs: 1000 })).toBe(1500);
  });

  it('BAD CALL - refuses durations out of the range', () => {
    expectErrorSync(
      () => parseDuration('61s', '--warmup', { maxMs: 60_000 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a duration between 0ms and 1m for --warmup but received "61s" of type string',
    );
    expectErrorSync(
      () => parseDuration('500ms', '--interval', { minMs: 1000 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a duration of at least 1s for --interval but received "500ms" of type string',
    );
  });

  it('BAD CALL - refuses a number', () => {
    expectErrorSync(
      () => parseDuration(30, '--older-than'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a duration such as 250ms, 3s, 1.5m or 1h30m (a string) for --older-than but received 30 of type number',
    );
  });

  it('reads a bare 0 as 0 ms (zero in every unit: `bench --duration 0 --iterations N`)', () => {
    expect(parseDuration('0', '--duration', { maxMs: 3_600_000 })).toBe(0);
    expect(parseDuration(' 0.0 ', '--duration')).toBe(0);
    expectErrorSync(
      () => parseDuration('0', '--interval', { minMs: 1000 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a duration of at least 1s for --interval but received "0" of type string',
    );
  });
});

describe('expectDurationMs (every duration option in milliseconds)', () => {
  const range = 'a number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait)';

  it('accepts 0 to 2^31-1 ms, the range of a Node.js timer', () => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    expect(expectDurationMs(0, 'options.maxDelayMs')).toBe(0);
    expect(expectDurationMs(2.5, 'options.maxDelayMs')).toBe(2.5);
    expect(expectDurationMs(MAX_TIMER_MS, 'options.maxDelayMs')).toBe(MAX_TIMER_MS);
    expect(expectDurationMs(Infinity, 'options.timeoutMs', { allowInfinity: true })).toBe(Infinity);
  });

  it.each([[2 ** 31], [2 ** 40], [-1], [NaN], [Infinity], [-Infinity]])('BAD CALL - refuses %d', (value) => {
    expectErrorSync(
      () => expectDurationMs(value, 'options.maxDelayMs'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected ${range} for options.maxDelayMs but received ${value} of type number`,
    );
  });

  it('BAD CALL - refuses 0 where it must be positive, and a string', () => {
    expectErrorSync(
      () => expectDurationMs(0, 'options.lockTimeoutMs', { positive: true, allowInfinity: true }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected a positive ${range.slice(2)} or Infinity for no limit for options.lockTimeoutMs but received 0 of type number`,
    );
    expectErrorSync(
      () => expectDurationMs('1s', 'options.timeoutMs'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      `Expected ${range} for options.timeoutMs but received "1s" of type string`,
    );
  });
});

describe('formatBytes and formatDuration', () => {
  it('writes sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 ** 3)).toBe('10.0 GiB');
    expect(formatBytes(Infinity)).toBe('Infinity');
  });

  it('writes durations from days down to seconds', () => {
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(93_784_000)).toBe('1d 2h 3m 4s');
    expect(formatDuration(30 * 86_400_000)).toBe('30d');
  });
});
