import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import {
  closestMatch,
  describeValue,
  editDistance,
  expectInteger,
  expectNumber,
  expectOneOf,
  expectOptions,
  expectPositiveInteger,
  expectString,
  rejectUnknownOptions,
} from '../../lib/core/validate.js';
import { expectErrorSync } from '../helpers/expect-error.js';

describe('validation message template', () => {
  it('describes received values precisely', () => {
    expect(describeValue(-1)).toBe('-1 of type number');
    expect(describeValue('abc')).toBe('"abc" of type string');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue(new Float64Array(3))).toBe('a Float64Array of length 3');
    expect(describeValue([1, 2])).toBe('an array of length 2');
    expect(describeValue({})).toBe('an object');
    expect(describeValue(new Map())).toBe('an instance of Map');
    expect(describeValue(10n)).toBe('10n of type bigint');
    expect(describeValue(NaN)).toBe('NaN of type number');
  });

  it('BAD CALL - positive integer given -1, 1.5, NaN and a string', () => {
    expectErrorSync(
      () => expectPositiveInteger(-1, 'options.device'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive integer for options.device but received -1 of type number',
    );
    expectErrorSync(
      () => expectPositiveInteger(1.5, 'size'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive integer for size but received 1.5 of type number',
    );
    expectErrorSync(
      () => expectPositiveInteger(NaN, 'size'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive integer for size but received NaN of type number',
    );
    expectErrorSync(
      () => expectPositiveInteger('3', 'size'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive integer for size but received "3" of type string',
    );
    expect(expectPositiveInteger(3, 'size')).toBe(3);
    expectErrorSync(
      () => expectPositiveInteger(9, 'size', 8),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a positive integer <= 8 for size but received 9 of type number',
    );
  });

  it('BAD CALL - integers and numbers outside bounds or not finite', () => {
    expectErrorSync(
      () => expectInteger(2 ** 60, 'n'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected an integer for n but received/,
    );
    expectErrorSync(
      () => expectInteger(5, 'n', { min: 0, max: 3 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer between 0 and 3 for n but received 5 of type number',
    );
    expectErrorSync(
      () => expectNumber(Infinity, 'rtol', { min: 0 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a finite number >= 0 for rtol but received Infinity of type number',
    );
    expectErrorSync(
      () => expectNumber(-1, 'rtol', { min: 0 }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a number >= 0 for rtol but received -1 of type number',
    );
  });

  it('BAD CALL - strings, enums and options objects', () => {
    expectErrorSync(
      () => expectString(3, 'path'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a string for path but received 3 of type number',
    );
    expectErrorSync(
      () => expectString('', 'path'),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a non-empty string for path but received "" of type string',
    );
    expectErrorSync(
      () => expectOneOf('fp61', 'precision', ['fp32', 'fp16', 'int8']),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "fp32", "fp16", "int8" for precision but received "fp61" of type string (did you mean "fp16"?)',
    );
    expectErrorSync(
      () => expectOptions([], 'options'),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received an array of length 0',
    );
    expect(expectOptions(undefined)).toEqual({});
  });

  it('BAD CALL - unknown option with and without a suggestion', () => {
    expectErrorSync(
      () => rejectUnknownOptions({ timoutMs: 5 }, ['timeoutMs', 'signal']),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "timoutMs" in options (did you mean "timeoutMs"?); known options: timeoutMs, signal',
    );
    expectErrorSync(
      () => rejectUnknownOptions({ zzz: 1 }, ['timeoutMs', 'signal']),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "zzz" in options; known options: timeoutMs, signal',
    );
  });

  it('computes edit distance and close matches', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(closestMatch('jsno', ['json', 'html'])).toBe('json');
    expect(closestMatch('qqqq', ['json', 'html'])).toBeUndefined();
  });
});

describe('suggestions', () => {
  it('are not made when two candidates are equally close', () => {
    expect(closestMatch('fp64', ['fp32', 'fp16', 'int8'])).toBeUndefined();
    expect(closestMatch('fp61', ['fp32', 'fp16', 'int8'])).toBe('fp16');
  });
});

describe('suggestion scoring', () => {
  it('does not suggest a word two edits away from a short one: --port is not --out', () => {
    expect(closestMatch('port', ['out', 'duration'])).toBeUndefined();
    expect(closestMatch('fp8', ['fp32', 'fp16'])).toBeUndefined();
  });

  it('still suggests typos, swaps and abbreviations', () => {
    expect(closestMatch('imgs', ['images'])).toBe('images');
    expect(closestMatch('outp', ['output', 'json'])).toBe('output');
    expect(closestMatch('jsno', ['json', 'html'])).toBe('json');
    expect(closestMatch('duraton', ['duration', 'out'])).toBe('duration');
    expect(closestMatch('timout', ['timeoutMs', 'signal'])).toBe('timeoutMs');
    expect(closestMatch('gpu', ['auto', 'tensorrt', 'cpu'])).toBe('cpu');
    // Ambiguous abbreviations suggest nothing.
    expect(closestMatch('ot', ['output', 'out-dir'])).toBeUndefined();
  });
});
