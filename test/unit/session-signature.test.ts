/**
 * options.signature is checked against the model at create: a signature whose output is named
 * otherwise used to succeed and leave `result.y` undefined under a type that said tensor; now the
 * session is refused, naming each mismatch and the model's real inputs and outputs.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentRangeError, ArgumentTypeError } from '../../lib/core/errors.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { checkSignature } from '../../lib/session/signature.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

const cpu = { backend: 'cpu', cpu: { intraOpNumThreads: 1 } } as const;
const model = 'mlp.onnx';
const inputs = [{ name: 'x', dtype: 'float32', shape: [-1, 16] }] as const;
const outputs = [{ name: 'logits', dtype: 'float32', shape: [-1, 8] }] as const;
const real = '(inputs: x float32 [-1, 16]; outputs: logits float32 [-1, 8])';

describe('options.signature', () => {
  it('a matching signature creates a session whose results have the declared outputs', async () => {
    await using session = await InferenceSession.create(mlpModel(), {
      ...cpu,
      signature: { inputs: { x: 'float32' }, outputs: { y: 'float32' } },
    });
    const { y } = await session.run({ x: { data: new Float32Array(16), shape: [1, 16] } });
    expect(y.dtype).toBe('float32');
    expect(y.shape).toEqual([1, 8]);
  });

  it("BAD CALL - an output named otherwise fails at create with the model's real outputs", async () => {
    const error = await expectError(
      () =>
        InferenceSession.create(mlpModel(), { ...cpu, signature: { inputs: { x: 'float32' }, outputs: { logits: 'float32' } } }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected a signature matching <mlp> (inputs: x float32 [-1, 16]; outputs: y float32 [-1, 8]) for options.signature but received one where output "logits" is not an output of the model',
    );
    expect((error as ArgumentRangeError).details).toMatchObject({ outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 8] }] });
  });

  it('BAD CALL - each kind of mismatch, all listed in one error', () => {
    expectErrorSync(
      () => checkSignature({ inputs: { x: 'float16' }, outputs: { logits: 'float32' } }, inputs, outputs, model),
      ArgumentRangeError,
      'ERR_DTYPE',
      `Expected a signature matching mlp.onnx ${real} for options.signature but received one where input "x" is float32 in the model, not float16`,
    );
    expectErrorSync(
      () => checkSignature({ inputs: { xx: 'float32' }, outputs: { logit: 'int32' } }, inputs, outputs, model),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      `Expected a signature matching mlp.onnx ${real} for options.signature but received one where input "xx" is not an input of the model (did you mean "x"?); input "x" (float32) is missing; output "logit" is not an output of the model (did you mean "logits"?)`,
    );
    // Outputs may be left out (they are computed, just not typed); inputs may not (feeds are typed from them).
    expect(() => checkSignature({ inputs: { x: 'float32' }, outputs: {} }, inputs, outputs, model)).not.toThrow();
  });

  it('BAD CALL - a signature of the wrong form is refused before the model is loaded', async () => {
    await expectError(
      () => InferenceSession.create(mlpModel(), { ...cpu, signature: { inputs: { x: 'float23' }, outputs: {} } as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      /^Expected one of "float32", .* for options\.signature\.inputs\.x but received "float23" of type string/,
    );
    await expectError(
      () => InferenceSession.create(mlpModel(), { ...cpu, signature: { inputs: { x: 'float32' } } as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected an object mapping names to dtypes for options.signature.outputs but received undefined',
    );
    await expectError(
      () => InferenceSession.create(mlpModel(), { ...cpu, signature: { inputs: {}, outputs: {}, input: {} } as never }),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "input" in options\.signature \(did you mean "inputs"\?\)/,
    );
  });
});
