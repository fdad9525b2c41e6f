// The preprocessing and conversion kernels on real GPUs, compared bit for bit with the CPU
// implementation of the same math (lib/preprocess.ts, lib/dtypes.ts).
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { convertFloat, preprocessImage } from '../../dist/cuda/index.js';
import {
  cuda,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  imagePreprocessParams,
  preprocessImageCpu,
  Tensor,
} from '../../dist/index.js';
import { disposeTracked, random, randomBytes, skip, track } from './gpu.mjs';

const mean = [0.485, 0.456, 0.406];
const std = [0.229, 0.224, 0.225];

function assertSameBits(actual, expected, what) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  const actualBits = new Uint32Array(actual.buffer, actual.byteOffset, (actual.byteLength / 4) | 0);
  const expectedBits = new Uint32Array(expected.buffer, expected.byteOffset, (expected.byteLength / 4) | 0);
  if (actual instanceof Uint16Array) {
    for (let i = 0; i < actual.length; i++)
      if (actual[i] !== expected[i])
        assert.fail(`${what}: element ${i} is 0x${actual[i].toString(16)}, expected 0x${expected[i].toString(16)}`);
    return;
  }
  for (let i = 0; i < actualBits.length; i++)
    if (actualBits[i] !== expectedBits[i]) assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
}

describe('image preprocessing kernel', { skip }, () => {
  afterEach(disposeTracked);

  const cases = [
    { shape: [480, 640, 3], inputFormat: 'rgb', outputFormat: 'rgb', dtype: 'float32', src: 'device', dst: 'device' },
    { shape: [2, 37, 53, 3], inputFormat: 'bgr', outputFormat: 'rgb', dtype: 'float16', src: 'pinned', dst: 'device' },
    { shape: [3, 31, 17, 4], inputFormat: 'bgra', outputFormat: 'bgr', dtype: 'float32', src: 'device', dst: 'pinned' },
    { shape: [1, 1, 1, 4], inputFormat: 'rgba', outputFormat: 'rgb', dtype: 'float16', src: 'pinned', dst: 'pinned' },
    {
      shape: [1080, 1920, 3],
      inputFormat: 'rgb',
      outputFormat: 'bgr',
      dtype: 'float16',
      src: 'device',
      dst: 'device',
      scale: 1,
      mean: [123.675, 116.28, 103.53],
      std: [58.395, 57.12, 57.375],
    },
  ];

  for (const [index, item] of cases.entries()) {
    test(`${item.inputFormat} ${JSON.stringify(item.shape)} ${item.src} -> ${item.dtype} ${item.outputFormat} ${item.dst} equals the CPU result bit for bit`, async () => {
      const pixels = randomBytes(
        item.shape.reduce((a, b) => a * b, 1),
        index + 1,
      );
      const options = {
        inputFormat: item.inputFormat,
        outputFormat: item.outputFormat,
        mean: item.mean ?? mean,
        std: item.std ?? std,
        scale: item.scale,
      };
      const [batch, height, width] = item.shape.length === 3 ? [1, ...item.shape] : item.shape;
      const src = track(await Tensor.fromArray(pixels, { shape: item.shape, location: item.src }));
      const dst = track(Tensor.allocate(item.dtype, [batch, 3, height, width], { location: item.dst }));
      await preprocessImage(dst, src, options);
      const expected = preprocessImageCpu(pixels, imagePreprocessParams(item.shape, item.dtype, options));
      assertSameBits(await dst.toArray(), expected, 'output');
    });
  }

  test('host tensors give the same result on the CPU', async () => {
    const pixels = randomBytes(17 * 19 * 3, 99);
    const gpuSrc = track(await Tensor.fromArray(pixels, { shape: [17, 19, 3], location: 'device' }));
    const gpuDst = track(Tensor.allocate('float32', [1, 3, 17, 19], { location: 'device' }));
    const cpuSrc = await Tensor.fromArray(pixels, { shape: [17, 19, 3] });
    const cpuDst = Tensor.allocate('float32', [1, 3, 17, 19]);
    await preprocessImage(gpuDst, gpuSrc, { mean, std });
    await preprocessImage(cpuDst, cpuSrc, { mean, std });
    assertSameBits(await gpuDst.toArray(), cpuDst.data, 'output');
  });

  test('BAD CALL - mixing a host tensor with GPU memory is refused', async () => {
    const src = track(Tensor.allocate('uint8', [4, 4, 3], { location: 'device' }));
    await assert.rejects(preprocessImage(Tensor.allocate('float32', [1, 3, 4, 4]), src), {
      name: 'ArgumentRangeError',
      code: 'ERR_INVALID_ARGUMENT',
      message:
        'Expected a pinned or device tensor for dst (src is a device tensor) but received a host tensor; copy it first or use host tensors for both',
    });
  });
});

describe('float32 <-> float16 kernels', { skip }, () => {
  afterEach(disposeTracked);

  test('float16 -> float32 decodes all 65536 bit patterns like the CPU helper', async () => {
    const patterns = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const src = track(await Tensor.fromArray(patterns, { dtype: 'float16', location: 'device' }));
    const dst = track(Tensor.allocate('float32', [65536], { location: 'device' }));
    await convertFloat(dst, src);
    const decoded = await dst.toArray();
    for (let bits = 0; bits < 65536; bits++) {
      const expected = float16BitsToFloat32(bits);
      if (Number.isNaN(expected)) assert.ok(Number.isNaN(decoded[bits]), `0x${bits.toString(16)} must decode to NaN`);
      else assert.ok(Object.is(decoded[bits], expected), `0x${bits.toString(16)}: ${decoded[bits]} !== ${expected}`);
    }
  });

  test('float32 -> float16 rounds to nearest even like the CPU helper (specials, subnormals, ties, random)', async () => {
    const next = random(3);
    const specials = [
      0,
      -0,
      1,
      -1,
      65504,
      65519,
      65520,
      1e9,
      -1e9,
      Infinity,
      -Infinity,
      NaN,
      2 ** -24,
      2 ** -25,
      3 * 2 ** -26,
      2 ** -26,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      5.960464477539063e-8,
    ];
    const values = Float32Array.from([
      ...specials,
      ...Array.from({ length: 200_000 }, () => (next() - 0.5) * 2 ** Math.floor(next() * 40 - 24)),
    ]);
    const src = track(await Tensor.fromArray(values, { location: 'pinned' }));
    const dst = track(Tensor.allocate('float16', [values.length], { location: 'pinned' }));
    await convertFloat(dst, src);
    for (let i = 0; i < values.length; i++) {
      const expected = float32ToFloat16Bits(values[i]);
      const actual = dst.data[i];
      if (Number.isNaN(values[i])) assert.ok((actual & 0x7c00) === 0x7c00 && (actual & 0x3ff) !== 0, 'NaN stays NaN');
      else assert.equal(actual, expected, `${values[i]}: 0x${actual.toString(16)} !== 0x${expected.toString(16)}`);
    }
  });

  test('conversion work is ordered on the given stream', async () => {
    const stream = cuda.createStream();
    const values = Float32Array.from({ length: 1 << 20 }, (_, i) => i / 7);
    const src = track(await Tensor.fromArray(values, { location: 'device', stream }));
    const half = track(Tensor.allocate('float16', [values.length], { location: 'device', stream }));
    const back = track(Tensor.allocate('float32', [values.length], { location: 'device', stream }));
    const first = convertFloat(half, src, { stream });
    const second = convertFloat(back, half, { stream });
    const result = back.toArray({ stream });
    await Promise.all([first, second]);
    const expected = Float32Array.from(values, (value) => float16BitsToFloat32(float32ToFloat16Bits(value)));
    assert.deepEqual(await result, expected);
    stream.dispose();
  });
});
