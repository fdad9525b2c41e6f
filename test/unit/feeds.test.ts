// One mistake, one error: the same bad feed gets the same class, code and message from an engine run
// (ExecutionContext.run's bindings), from a backend (cpu, tensorrt) and from a session, because all
// of them check feeds with core/feeds.ts. Each layer's own BAD CALL tests are in engine-validation,
// run-bindings, cpu-backend, tensorrt-backend and session.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { validateFeeds } from '../../lib/core/feeds.js';
import type { TensorInfo } from '../../lib/core/tensors.js';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { normalizeFeeds } from '../../lib/session/feeds.js';
import { prepareBindings } from '../../lib/tensorrt/bindings.js';
import { engineInputs } from '../../lib/tensorrt/validation.js';
import { expectErrorSync } from '../helpers/expect-error.js';

const text = JSON.parse(
  readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', 'text-two-inputs.json'), 'utf8'),
) as EngineMetadata;
const inputs = engineInputs(text) as unknown as TensorInfo[];
const ids = (
  shape: number[],
  data: BigInt64Array | Float32Array = new BigInt64Array(shape.reduce((product, dim) => product * dim, 1)),
) => ({ dtype: 'int64', shape, data });
const fits = ids([1, 4]);

const mistakes: [string, Record<string, unknown>, typeof ArgumentTypeError | typeof ArgumentRangeError, string, string][] = [
  [
    'a misspelled input name',
    { input_id: fits, attention_mask: fits },
    ArgumentRangeError,
    'ERR_INVALID_ARGUMENT',
    'Expected only input names of the model ("input_ids", "attention_mask") in feeds but received "input_id" (did you mean "input_ids"?)',
  ],
  [
    'a missing input',
    { input_ids: fits },
    ArgumentRangeError,
    'ERR_INVALID_ARGUMENT',
    'Expected a tensor for every input of the model ("input_ids", "attention_mask") in feeds but received none for "attention_mask"',
  ],
  [
    'another dtype',
    { input_ids: { ...fits, dtype: 'int32' }, attention_mask: fits },
    ArgumentTypeError,
    'ERR_DTYPE',
    'Expected dtype "int64" for input "input_ids" but received "int32" of type string',
  ],
  [
    'data of another TypedArray',
    { input_ids: ids([1, 4], new Float32Array(4)), attention_mask: fits },
    ArgumentTypeError,
    'ERR_DTYPE',
    'Expected a BigInt64Array for input "input_ids" (int64) but received a Float32Array of length 4',
  ],
  [
    'another rank',
    { input_ids: ids([4]), attention_mask: fits },
    ArgumentRangeError,
    'ERR_SHAPE',
    'Expected a shape of rank 2 (model shape [-1, -1]) for input "input_ids" but received [4]',
  ],
  [
    'a negative dim',
    { input_ids: { ...fits, shape: [-1, 4] }, attention_mask: fits },
    ArgumentRangeError,
    'ERR_SHAPE',
    'Expected a non-negative integer at dim 0 for input "input_ids" but received -1 of type number',
  ],
  [
    'data of another length',
    { input_ids: { ...fits, shape: [1, 5] }, attention_mask: fits },
    ArgumentRangeError,
    'ERR_SHAPE',
    'Expected 5 elements (shape [1, 5]) for input "input_ids" but received a BigInt64Array of length 4',
  ],
];

describe('one feed validator', () => {
  for (const [mistake, feeds, errorClass, code, message] of mistakes) {
    it(`BAD CALL - ${mistake}: the same error from a backend, a session and an engine run`, () => {
      expectErrorSync(() => validateFeeds(inputs, feeds), errorClass, code, message);
      expectErrorSync(() => normalizeFeeds(inputs, feeds), errorClass, code, message);
      // ExecutionContext.run() names its argument `inputs`.
      expectErrorSync(
        () => prepareBindings(text, 0, 0, feeds, undefined),
        errorClass,
        code,
        message.replace(' in feeds ', ' in inputs '),
      );
    });
  }

  it('BAD CALL - a context names where the feeds came from', () => {
    expectErrorSync(
      () => validateFeeds(inputs, { input_ids: fits }, 'calibration sample 3 '),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a tensor for every input of the model ("input_ids", "attention_mask") in calibration sample 3 feeds but received none for "attention_mask"',
    );
    expectErrorSync(
      () => validateFeeds(inputs, { input_ids: { ...fits, shape: [1, 3] }, attention_mask: fits }, 'calibration sample 3 '),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected 3 elements (shape [1, 3]) for calibration sample 3 input "input_ids" but received a BigInt64Array of length 4',
    );
  });
});
