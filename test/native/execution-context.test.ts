// Execution contexts need a deserialized engine, which needs libnvinfer and a GPU: their runs are
// tested for real in test/gpu. What is reachable here is the native entry point's own re-check of
// what it is given (no input may crash the process), and the ERR_TENSORRT_NOT_FOUND path that a
// context's engine takes on a machine without TensorRT.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { Engine } from '../../lib/tensorrt/engine.js';
import { ArgumentTypeError, TensorRTError } from '../../lib/core/errors.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { addon } from '../helpers/machine.js';

const createExecutionContext = addon?.createExecutionContext?.bind(addon);

describe.skipIf(!createExecutionContext)('createExecutionContext (native entry point)', () => {
  it('BAD CALL - anything but an engine wrap is refused before any CUDA or TensorRT call', () => {
    for (const notAnEngine of [undefined, null, 42, {}, { metadata: () => ({}) }, new Uint8Array(4)]) {
      expectErrorSync(
        () => createExecutionContext!(notAnEngine as never, { profile: 0, cudaGraph: 'auto' }),
        ArgumentTypeError,
        'ERR_INVALID_ARGUMENT',
        'Expected an engine for createExecutionContext()',
      );
    }
  });

  it('an engine cannot even be loaded without libnvinfer, so no context is ever created on a broken install', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'context-test-'));
    const plan = join(folder, 'model.plan');
    writeFileSync(plan, Buffer.from('not an engine'));
    await expectError(
      () => Engine.load(plan, { libraryPath: folder }),
      TensorRTError,
      'ERR_TENSORRT_NOT_FOUND',
      /^libnvinfer was not found\. Tried:/,
    );
  });
});
