// createContext() and run() options are validated before any native call: everything here runs
// without the addon, against engine metadata fixtures.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTError } from '../../lib/core/errors.js';
import { checkContextOptions, checkRunOptions } from '../../lib/tensorrt/execution-context.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { expectErrorSync } from '../helpers/expect-error.js';

function fixture(name: string): EngineMetadata {
  return JSON.parse(
    readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', `${name}.json`), 'utf8'),
  ) as EngineMetadata;
}

const detector = fixture('detector-dynamic-batch');
const nonzero = fixture('nonzero-data-dependent');

describe('createContext() options', () => {
  it('defaults: profile 0, CUDA graphs auto, no logger, warnings', () => {
    expect(checkContextOptions(undefined, detector)).toEqual({
      profile: 0,
      cudaGraph: 'auto',
      logger: null,
      logSeverity: 'warning',
    });
    const logger = () => {};
    expect(checkContextOptions({ profile: 1, cudaGraph: false, logger, logSeverity: 'verbose' }, detector)).toEqual({
      profile: 1,
      cudaGraph: false,
      logger,
      logSeverity: 'verbose',
    });
    expect(checkContextOptions({ cudaGraph: true }, nonzero).cudaGraph).toBe(true);
    expect(checkContextOptions({ profile: 0 }, nonzero).profile).toBe(0); // engines without dynamic inputs have profile 0 only
  });

  it('BAD CALL - unknown options, profiles that do not exist, bad cudaGraph, logger and severity', () => {
    expectErrorSync(
      () => checkContextOptions({ cudaGraphs: true }, detector),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "cudaGraphs" in options (did you mean "cudaGraph"?); known options: profile, cudaGraph, logger, logSeverity',
    );
    expectErrorSync(
      () => checkContextOptions({ profile: 2 }, detector),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an optimization profile between 0 and 1 for options.profile but received 2 of type number',
    );
    expectErrorSync(
      () => checkContextOptions({ profile: 1 }, nonzero),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an optimization profile between 0 and 0 for options.profile but received 1 of type number',
    );
    expectErrorSync(
      () => checkContextOptions({ profile: -1 }, detector),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer >= 0 for options.profile but received -1 of type number',
    );
    expectErrorSync(
      () => checkContextOptions({ profile: '0' }, detector),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an integer for options.profile but received "0" of type string',
    );
    expectErrorSync(
      () => checkContextOptions({ cudaGraph: 'always' }, detector),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected "auto", true or false for options.cudaGraph but received "always" of type string',
    );
    expectErrorSync(
      () => checkContextOptions({ cudaGraph: 1 }, detector),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected "auto", true or false for options.cudaGraph but received 1 of type number',
    );
    expectErrorSync(
      () => checkContextOptions({ logger: console }, detector),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a function for options.logger but received an instance of Console',
    );
    expectErrorSync(
      () => checkContextOptions({ logSeverity: 'debug' }, detector),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected one of "internal-error", "error", "warning", "info", "verbose" for options.logSeverity but received "debug" of type string',
    );
    expectErrorSync(
      () => checkContextOptions(42, detector),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object for options but received 42 of type number',
    );
  });

  it('BAD CALL - an engine with I/O tensors tensorrt-node cannot bind (int4) refuses contexts', () => {
    expectErrorSync(
      () => checkContextOptions({}, fixture('int4-weights-output')),
      TensorRTError,
      'ERR_NOT_SUPPORTED',
      'Cannot create an execution context: output "packed" has dtype int4, which tensorrt-node cannot bind',
    );
  });
});

describe('run() options', () => {
  it('defaults and accepted values', () => {
    expect(checkRunOptions(undefined)).toEqual({ outputTensors: undefined, signal: null, timing: false });
    const signal = new AbortController().signal;
    expect(checkRunOptions({ signal, timing: true, outputTensors: {} })).toEqual({ outputTensors: {}, signal, timing: true });
  });

  it('BAD CALL - unknown options, a signal that is not an AbortSignal, timing that is not a boolean', () => {
    expectErrorSync(
      () => checkRunOptions({ timings: true }),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      'Unknown option "timings" in options (did you mean "timing"?); known options: outputTensors, signal, timing',
    );
    expectErrorSync(
      () => checkRunOptions({ signal: {} }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an AbortSignal for options.signal but received an object',
    );
    expectErrorSync(
      () => checkRunOptions({ timing: 'yes' }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a boolean for options.timing but received "yes" of type string',
    );
  });
});
