// InferenceSession on the tensorrt backend: the batcher correctness test of test/unit/session-soak.test.ts
// (concurrent requests with distinct inputs, random aborts and deadlines) on a GPU, checked against
// the cpu backend as the FP32 reference, plus bindings. Skipped without a GPU, TensorRT, or a
// registered tensorrt backend factory (lib/backends/registry.ts), with the reason.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InferenceSession, capabilities } from '../../dist/index.js';
import { backendFactory } from '../../dist/session/registry.js';
import { buildEngine } from '../../dist/builder/build-engine.js';
import { createModelTargetFactory } from '../../dist/bench/model-targets.js';
import { intAttribute, makeNode, makeValueInfo } from '../../dist/onnx/graph.js';
import { DataType, GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema } from '../../dist/onnx/proto.js';
import { serializeModel } from '../../dist/onnx/model.js';
import { createRandom } from '../../dist/onnx/random.js';
import { createTensor } from '../../dist/onnx/tensor-data.js';
import { skip as noGpu } from './gpu.mjs';

async function skipReason() {
  if (noGpu) return noGpu;
  const caps = await capabilities();
  if (!caps.backends.tensorrt.available) return `TensorRT is not usable: ${caps.backends.tensorrt.reason}`;
  if (!backendFactory('tensorrt')) return 'no tensorrt backend factory is registered in this build yet';
  return false;
}
const skip = await skipReason();

/** x [batch, 64] -> Gemm 128 -> Relu -> Gemm 10 -> y [batch, 10], seeded weights. */
function mlpBytes() {
  const random = createRandom(11);
  const weights = (count, scale) => Float32Array.from({ length: count }, () => random.normal() * scale);
  const graph = create(GraphProtoSchema, {
    name: 'gpu-mlp',
    input: [makeValueInfo('x', DataType.FLOAT, ['batch', 64])],
    output: [makeValueInfo('y', DataType.FLOAT, ['batch', 10])],
    initializer: [
      createTensor('w1', 'float32', [128, 64], weights(128 * 64, 0.125)),
      createTensor('b1', 'float32', [128], weights(128, 0.1)),
      createTensor('w2', 'float32', [10, 128], weights(1280, 0.09)),
      createTensor('b2', 'float32', [10], weights(10, 0.1)),
    ],
    node: [
      makeNode('Gemm', ['x', 'w1', 'b1'], ['h'], 'fc1', [intAttribute('transB', 1)]),
      makeNode('Relu', ['h'], ['r'], 'relu'),
      makeNode('Gemm', ['r', 'w2', 'b2'], ['y'], 'fc2', [intAttribute('transB', 1)]),
    ],
  });
  const proto = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'tensorrt-node-gpu-tests',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })],
    graph,
  });
  return serializeModel({ proto, baseDir: null, source: '<gpu-mlp>' });
}

/** TensorRT may use TF32 for FP32 math: compare with the cpu reference within that precision. */
function assertClose(actual, expected, label) {
  assert.equal(actual.length, expected.length, label);
  for (let index = 0; index < actual.length; index++) {
    if (Math.abs(actual[index] - expected[index]) > 2e-3 + 2e-3 * Math.abs(expected[index]))
      assert.fail(`${label}: element ${index} is ${actual[index]}, the cpu reference ${expected[index]}`);
  }
}

describe('InferenceSession on tensorrt', { skip }, () => {
  let folder;
  let gpu;
  let cpu;
  before(async () => {
    folder = mkdtempSync(join(tmpdir(), 'trtnode-gpu-session-'));
    writeFileSync(join(folder, 'mlp.onnx'), mlpBytes());
    gpu = await InferenceSession.create(join(folder, 'mlp.onnx'), {
      backend: 'tensorrt',
      contexts: 2,
      cacheDir: join(folder, 'cache'),
      profiles: [{ x: { min: [1, 64], opt: [32, 64], max: [256, 64] } }],
      maxQueue: 10_000,
    });
    cpu = await InferenceSession.create(join(folder, 'mlp.onnx'), { backend: 'cpu' });
  });
  after(async () => {
    await gpu?.dispose();
    await cpu?.dispose();
  });

  test('reports the tensorrt backend and the model', () => {
    assert.equal(gpu.backend, 'tensorrt');
    assert.equal(gpu.contexts, 2);
    assert.deepEqual(
      gpu.inputs.map((info) => [info.name, info.dtype, info.shape]),
      [['x', 'float32', [-1, 64]]],
    );
  });

  test('batcher soak: every completed response matches the reference for its own input; aborts and deadlines reject with their codes', async () => {
    const random = createRandom(5);
    const count = 5000;
    const inputs = Array.from({ length: count }, () => ({ dtype: 'float32', shape: [1, 64], data: random.float32(64, -2, 2) }));
    const faults = inputs.map(() => {
      const draw = random.next();
      return draw < 0.1
        ? { kind: 'abort', afterMs: Math.floor(random.next() * 20) }
        : draw < 0.2
          ? { kind: 'timeout', timeoutMs: 1 + Math.floor(random.next() * 20) }
          : { kind: 'none' };
    });
    const batcher = gpu.batcher({ maxBatchSize: 256, maxQueue: count });
    const outcomes = await Promise.all(
      inputs.map((x, index) => {
        const fault = faults[index];
        let signal;
        if (fault.kind === 'abort') {
          const controller = new AbortController();
          setTimeout(() => controller.abort(new Error('soak abort')), fault.afterMs);
          signal = controller.signal;
        }
        return batcher.run({ x }, { signal, timeoutMs: fault.kind === 'timeout' ? fault.timeoutMs : undefined }).then(
          (result) => ({ result: result.y.data }),
          (error) => ({ code: error.code }),
        );
      }),
    );
    await batcher.dispose();
    let completed = 0;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome.result) {
        completed++;
        const unbatched = (await gpu.run({ x: inputs[index] })).y.data;
        const reference = (await cpu.run({ x: inputs[index] })).y.data;
        assertClose(outcome.result, unbatched, `request ${index} batched vs unbatched on tensorrt`);
        assertClose(outcome.result, reference, `request ${index} tensorrt vs cpu`);
      } else {
        const expected =
          faults[index].kind === 'abort' ? 'ERR_ABORTED' : faults[index].kind === 'timeout' ? 'ERR_TIMEOUT' : 'no error';
        assert.equal(outcome.code, expected, `request ${index}`);
      }
    }
    assert.ok(completed > count / 2);
    const metrics = gpu.metrics();
    assert.ok(metrics.executionCount < metrics.requestSuccess, 'the batcher stacked requests');
  });

  test('bindings run in place on pinned memory with results equal to run()', async () => {
    const binding = await gpu.createBinding({ shapes: { x: [8, 64] } });
    try {
      assert.equal(binding.location, 'pinned');
      const x = { dtype: 'float32', shape: [8, 64], data: createRandom(9).float32(512, -1, 1) };
      binding.inputs.x.data.set(x.data);
      await binding.run();
      assertClose(binding.outputs.y.data, (await gpu.run({ x })).y.data, 'binding vs run');
    } finally {
      await binding.dispose();
    }
  });

  test('an engine file runs on the tensorrt backend with the results of the ONNX session; precision is refused for it', async () => {
    const built = await buildEngine(join(folder, 'mlp.onnx'), {
      profiles: { x: { min: [1, 64], opt: [8, 64], max: [64, 64] } },
      cacheDir: join(folder, 'cache'),
    });
    writeFileSync(join(folder, 'mlp.engine'), built.plan);
    const fromFile = await InferenceSession.create(join(folder, 'mlp.engine'), { backend: 'tensorrt' });
    try {
      const x = { dtype: 'float32', shape: [8, 64], data: createRandom(21).float32(512, -1, 1) };
      assertClose((await fromFile.run({ x })).y.data, (await gpu.run({ x })).y.data, 'engine file vs ONNX session');
    } finally {
      await fromFile.dispose();
    }
    await assert.rejects(InferenceSession.create(join(folder, 'mlp.engine'), { backend: 'tensorrt', precision: 'fp16' }), {
      code: 'ERR_NOT_SUPPORTED',
    });
  });

  test('the bench target reports CUDA-event phases in order, with and without transfers', async () => {
    for (const transfers of [true, false]) {
      const target = await createModelTargetFactory(join(folder, 'mlp.onnx'))({
        backend: 'tensorrt',
        precision: 'fp32',
        batch: 4,
        concurrency: 1,
        device: 0,
        cudaGraph: true,
        transfers,
        batcher: false,
      });
      try {
        assert.equal(target.describe().measuresPhases, true);
        for (let run = 0; run < 3; run++) {
          const phases = await target.run();
          assert.ok(phases.enqueueStartMs <= phases.enqueueEndMs, 'enqueue');
          assert.ok(
            phases.h2dStartMs <= phases.h2dEndMs && phases.h2dEndMs <= phases.computeStartMs + 1e-3,
            'h2d before compute',
          );
          assert.ok(phases.computeStartMs < phases.computeEndMs, 'compute takes time');
          assert.ok(phases.computeEndMs <= phases.d2hStartMs + 1e-3 && phases.d2hStartMs <= phases.d2hEndMs, 'd2h after compute');
          if (!transfers) assert.equal(phases.h2dEndMs - phases.h2dStartMs, 0, 'no H2D without transfers');
        }
      } finally {
        await target.dispose();
      }
    }
  });
});
