// A Float16Array (Node.js 24 on) is float16 data wherever float16 data is taken: feeds of a session,
// a backend or an engine run (ExecutionContext.run's bindings), calibration samples,
// Tensor.fromArray. It is read as a Uint16Array view of its bits (the same memory, never a copy), and
// refused for any other dtype. These run where the runtime has Float16Array: CI's Node 24 and 26
// lines (scripts/test-node-lines.sh); Node 20 and 22 have none, and skip them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { checkTypedArray, fromFloat16Array, toFloat16Array, type Float16ArrayLike } from '../../lib/core/dtypes.js';
import { ArgumentTypeError } from '../../lib/core/errors.js';
import { validateFeeds } from '../../lib/core/feeds.js';
import type { TensorInfo } from '../../lib/core/tensors.js';
import { Tensor } from '../../lib/cuda/tensor.js';
import { convertToFp16 } from '../../lib/onnx/fp16.js';
import { InferenceSession } from '../../lib/session/index.js';
import { prepareBindings } from '../../lib/tensorrt/bindings.js';
import { expectError, expectErrorSync } from '../helpers/expect-error.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

type Float16ArrayClass = new (values: ArrayLike<number>) => Float16ArrayLike;
const Float16 = (globalThis as { Float16Array?: Float16ArrayClass }).Float16Array;
const values = [0.5, -2, 65504, 1e-7, 3.14159];

describe.skipIf(Float16 === undefined)('Float16Array as float16 data (Node.js 24 on)', () => {
  const halves = () => new Float16!(values);

  it('is read as a Uint16Array view of its bits: the same memory, bits as toFloat16Array() gives', () => {
    const given = halves();
    const bits = checkTypedArray('float16', given, 'input "h"');
    expect(bits).toBeInstanceOf(Uint16Array);
    expect(bits.buffer).toBe(given.buffer);
    expect(bits.byteOffset).toBe(given.byteOffset);
    expect([...bits]).toEqual([...toFloat16Array(values)]);
  });

  it('BAD CALL - a Float16Array for a bfloat16 or float32 input is refused, naming what it is', () => {
    expectErrorSync(
      () => checkTypedArray('bfloat16', halves(), 'input "h"'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Uint16Array for input "h" (bfloat16) but received a Float16Array of length 5',
    );
    expectErrorSync(
      () => checkTypedArray('float32', halves(), 'input "x"'),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for input "x" (float32) but received a Float16Array of length 5',
    );
  });

  it("validateFeeds returns the feeds with the bits' view and leaves the caller's map as it was", () => {
    const inputs: TensorInfo[] = [
      { name: 'h', dtype: 'float16', shape: [5] },
      { name: 'x', dtype: 'float32', shape: [1] },
    ];
    const given = halves();
    const x = { dtype: 'float32', shape: [1], data: new Float32Array(1) };
    const feeds = { h: { dtype: 'float16', shape: [5], data: given }, x };
    const checked = validateFeeds(inputs, feeds);
    expect(checked).not.toBe(feeds);
    expect(feeds.h.data).toBe(given);
    expect(checked.h!.data).toBeInstanceOf(Uint16Array);
    expect(checked.h!.data.buffer).toBe(given.buffer);
    expect(checked.x).toBe(x);
    // Feeds without a Float16Array come back as they are: no map is copied on the common path.
    const plain = { h: { dtype: 'float16', shape: [5], data: toFloat16Array(values) }, x };
    expect(validateFeeds(inputs, plain)).toBe(plain);
  });

  it("an engine run's bindings hand native code the bits' view (ExecutionContext.run feeds)", () => {
    const metadata = JSON.parse(
      readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', 'int4-weights-output.json'), 'utf8'),
    ) as EngineMetadata; // input "x": float16 [1, 64]
    const given = new Float16!(Array.from({ length: 64 }, (_, index) => index / 8));
    for (const feed of [given, { data: given, shape: [1, 64] }]) {
      const [input] = prepareBindings(metadata, 0, 0, { x: feed }, undefined).inputs;
      expect(input!.memory).toBeInstanceOf(Uint16Array);
      expect((input!.memory as Uint16Array).buffer).toBe(given.buffer);
      expect(input!.shape).toEqual([1, 64]);
    }
  });

  it('Tensor.fromArray infers float16 and wraps the same memory; BAD CALL - another dtype is refused', async () => {
    const given = halves();
    const tensor = await Tensor.fromArray(given);
    expect(tensor.dtype).toBe('float16');
    expect(tensor.data).toBeInstanceOf(Uint16Array);
    expect(tensor.data.buffer).toBe(given.buffer);
    expect((await Tensor.fromArray(given, { dtype: 'float16', shape: [1, 5] })).shape).toEqual([1, 5]);
    await expectError(
      () => Tensor.fromArray(given as never, { dtype: 'bfloat16' }),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected a Uint16Array for data (options.dtype is bfloat16) but received a Float16Array of length 5',
    );
  });
});

// onnxruntime-node 1.30 reads a Float16Array's byte length as 0 (microsoft/onnxruntime PR #32323), and on
// Node.js 24 on onnxruntime-common hands it one for any float16 data: before the cpu worker kept the
// bits' Uint16Array in its onnxruntime Tensors, every float16 input failed there ("not enough space").
describe('float16 I/O on the cpu backend, on every Node line', () => {
  const numbers = Array.from({ length: 32 }, (_, index) => Math.sin(index) * 2);
  // The MLP with float16 inputs and outputs (its input "x" is [batch, 16]), and the float32 original.
  const original = mlpModel();
  const { model: halfModel } = convertToFp16(mlpModel(), { keepIoTypes: false });

  it("runs from the bits, by run() and by a binding, close to the float32 model's results", async () => {
    await using half = await InferenceSession.create(halfModel, { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    await using full = await InferenceSession.create(original, { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    expect(half.inputs[0]!.dtype).toBe('float16');
    const bits = toFloat16Array(numbers);
    const { y } = await half.run({ x: { data: bits, shape: [2, 16] } });
    expect(y!.dtype).toBe('float16');
    expect(y!.data).toBeInstanceOf(Uint16Array);
    const reference = (await full.run({ x: { data: fromFloat16Array(bits), shape: [2, 16] } })).y!.data as Float32Array;
    const values = fromFloat16Array(y!.data as Uint16Array);
    for (let index = 0; index < reference.length; index++) expect(values[index]).toBeCloseTo(reference[index]!, 2);
    // A binding runs into its own float16 output arrays (the worker's bound-output path), with the same result.
    await using binding = await half.createBinding({ shapes: { x: [2, 16] } });
    (binding.inputs.x!.data as Uint16Array).set(bits);
    await binding.run();
    expect([...binding.outputs.y!.data]).toEqual([...y!.data]);
  });

  it.skipIf(Float16 === undefined)('gives the same results for a Float16Array feed as for its bits', async () => {
    await using half = await InferenceSession.create(halfModel, { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    const fromHalves = await half.run({ x: { data: new Float16!(numbers), shape: [2, 16] } });
    const fromBits = await half.run({ x: { data: toFloat16Array(numbers), shape: [2, 16] } });
    expect(fromHalves.y!.data).toBeInstanceOf(Uint16Array);
    expect([...fromHalves.y!.data]).toEqual([...fromBits.y!.data]);
  });
});
