// The TensorRT runtime end to end on a real GPU: engines built at test time from tiny ONNX models
// (test/helpers/tiny-onnx.mjs, checked against onnxruntime in test/unit), run from TypedArrays,
// pinned and device tensors, compared with the same math on the CPU; CUDA graph and plain paths;
// phase timings; data-dependent output shapes; queued runs; dispose; layer profiles; bad input.
// Skips (saying why) without a GPU or without TensorRT.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentRangeError, Tensor, TensorRTNodeError } from '../../dist/index.js';
import { randomFloats } from '../helpers/tiny-onnx.mjs';
import { disposeTracked, track } from './gpu.mjs';
import { affine, loadAffineEngine, loadNonZeroEngine, nonZero, tensorrtSkip } from './tensorrt.mjs';

const skip = tensorrtSkip;

/** |actual - expected| <= atol + rtol * |expected| everywhere (TF32 matmuls are allowed: rtol 2e-3). */
function assertClose(actual, expected, what, { atol = 1e-5, rtol = 2e-3 } = {}) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const tolerance = atol + rtol * Math.abs(expected[i]);
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tolerance,
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (tolerance ${tolerance})`,
    );
  }
}

const isCode = (code, message) => (error) => {
  assert.ok(error instanceof TensorRTNodeError, `expected a tensorrt-node error, got ${error}`);
  assert.equal(error.code, code);
  if (message instanceof RegExp) assert.match(error.message, message);
  else if (message !== undefined) assert.equal(error.message, message);
  return true;
};

describe('ExecutionContext.run on a real engine', { skip }, () => {
  let engine;
  let context;
  before(async () => {
    engine = await loadAffineEngine();
    context = await engine.createContext();
  });
  after(async () => {
    await context?.dispose();
    engine?.dispose();
  });
  afterEach(disposeTracked);

  test('the engine describes its I/O and profile as the ONNX model declares them', () => {
    assert.deepEqual(
      engine.inputs.map((t) => [t.name, t.dtype, t.shape]),
      [['x', 'float32', [-1, 4]]],
    );
    assert.deepEqual(
      engine.outputs.map((t) => [t.name, t.dtype, t.shape]),
      [
        ['y', 'float32', [-1, 3]],
        ['z', 'float32', [-1, 4]],
      ],
    );
    assert.deepEqual(engine.metadata.profiles[0].inputs.x, { min: [1, 4], opt: [4, 4], max: [8, 4] });
  });

  test('TypedArray inputs, fresh output arrays: the same math as the CPU, for every batch of the profile', async () => {
    for (const batch of [1, 3, 8]) {
      const x = randomFloats(batch * 4, batch);
      const { outputs, bound, timing } = await context.run({ x: { data: x, shape: [batch, 4] } });
      const expected = affine.reference(x, batch);
      assert.deepEqual(outputs.y.shape, [batch, 3]);
      assert.deepEqual(outputs.z.shape, [batch, 4]);
      assert.ok(outputs.y.data instanceof Float32Array);
      assertClose(outputs.y.data, expected.y, `y (batch ${batch})`);
      assertClose(outputs.z.data, expected.z, `z (batch ${batch})`, { rtol: 1e-6 });
      assert.deepEqual(bound, {});
      assert.equal(timing, null);
    }
  });

  test("pinned input and pinned outputs: no staging copy, and the results appear in the tensors' own memory", async () => {
    const x = randomFloats(8, 21);
    const input = track(await Tensor.fromArray(x, { location: 'pinned', shape: [2, 4] }));
    const y = track(Tensor.allocate('float32', [2, 3], { location: 'pinned' }));
    const z = track(Tensor.allocate('float32', [2, 4], { location: 'pinned' }));
    const yView = y.data; // taken before the run: the GPU writes into this very memory
    const { outputs, bound } = await context.run({ x: input }, { outputTensors: { y, z } });
    assert.deepEqual(outputs, {});
    assert.deepEqual(bound.y.shape, [2, 3]);
    assert.equal(bound.y.tensor, y);
    const expected = affine.reference(x, 2);
    assertClose(yView, expected.y, 'y (pinned)');
    assertClose(z.data, expected.z, 'z (pinned)', { rtol: 1e-6 });
  });

  test('device input and device outputs: bound as they are, no host copy at all (H2D and D2H phases are empty)', async () => {
    const x = randomFloats(12, 5);
    const input = track(await Tensor.fromArray(x, { location: 'device', shape: [3, 4] }));
    const y = track(Tensor.allocate('float32', [3, 3], { location: 'device' }));
    const z = track(Tensor.allocate('float32', [3, 4], { location: 'device' }));
    const { bound, timing } = await context.run({ x: input }, { outputTensors: { y, z }, timing: true });
    assert.deepEqual(bound.z.shape, [3, 4]);
    const expected = affine.reference(x, 3);
    assertClose(await y.toArray(), expected.y, 'y (device)');
    assertClose(await z.toArray(), expected.z, 'z (device)', { rtol: 1e-6 });
    assert.ok(timing.h2dMs < 0.005, `no H2D copies, yet h2dMs is ${timing.h2dMs}`);
    assert.ok(timing.d2hMs < 0.005, `no D2H copies, yet d2hMs is ${timing.d2hMs}`);
  });

  test('a host Tensor as a bound output is filled from staging; a dynamic output tensor may be larger than needed', async () => {
    const x = randomFloats(4, 9);
    const y = Tensor.allocate('float32', [8, 3]); // room for the largest batch
    const { bound } = await context.run({ x: { data: x, shape: [1, 4] } }, { outputTensors: { y } });
    assert.deepEqual(bound.y.shape, [1, 3]);
    assertClose(y.data.subarray(0, 3), affine.reference(x, 1).y, 'y (host tensor)');
  });

  test('per-run timings: phases in order, on the performance.now() clock, and GPU compute <= latency <= wall time', async () => {
    const x = randomFloats(32, 3);
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const { timing } = await context.run({ x: { data: x, shape: [8, 4] } }, { timing: true });
      const resolved = performance.now();
      assert.ok(
        timing.enqueueStartMs >= started - 0.01 && timing.enqueueEndMs <= resolved + 0.01,
        'enqueue happened during the call',
      );
      assert.ok(timing.h2dStartMs >= timing.enqueueStartMs);
      assert.ok(timing.h2dStartMs <= timing.h2dEndMs && timing.h2dEndMs <= timing.computeStartMs + 1e-9);
      assert.ok(timing.computeStartMs <= timing.computeEndMs && timing.computeEndMs <= timing.d2hStartMs + 1e-9);
      assert.ok(
        timing.d2hStartMs <= timing.d2hEndMs && timing.d2hEndMs <= resolved + 0.05,
        `the GPU finished before the promise resolved (${timing.d2hEndMs} vs ${resolved})`,
      );
      assert.ok(
        timing.computeMs > 0 && timing.computeMs <= timing.latencyMs,
        `compute ${timing.computeMs} <= latency ${timing.latencyMs}`,
      );
      assert.ok(timing.latencyMs <= resolved - started + 0.05, `latency ${timing.latencyMs} <= wall time ${resolved - started}`);
      assert.ok(Math.abs(timing.latencyMs - (timing.d2hEndMs - timing.h2dStartMs)) < 1e-9);
    }
  });

  test('runs started together on one context are queued, never interleaved: each gets its own results', async () => {
    const batches = Array.from({ length: 24 }, (_, i) => 1 + (i % 8));
    const inputs = batches.map((batch, i) => randomFloats(batch * 4, 100 + i));
    const pending = inputs.map((x, i) => context.run({ x: { data: x, shape: [batches[i], 4] } }));
    assert.ok(context.pending > 0, 'runs were queued');
    const results = await Promise.all(pending);
    results.forEach((result, i) => assertClose(result.outputs.y.data, affine.reference(inputs[i], batches[i]).y, `run ${i}`));
    assert.equal(context.pending, 0);
  });

  test('profileLayers() reports per-layer times through IProfiler, as trtexec --dumpProfile does', async () => {
    const profile = await context.profileLayers({ x: { data: randomFloats(16, 1), shape: [4, 4] } }, { iterations: 5 });
    assert.equal(profile.iterations, 5);
    assert.ok(profile.layers.length > 0);
    for (const layer of profile.layers) {
      assert.equal(typeof layer.name, 'string');
      assert.ok(layer.averageMs >= 0 && layer.medianMs >= 0 && layer.calls >= 5);
    }
    const share = profile.layers.reduce((sum, layer) => sum + layer.percentage, 0);
    assert.ok(Math.abs(share - 100) < 1e-6 || profile.totalAverageMs === 0);
    // The profiler is detached afterwards: ordinary runs still work and are not profiled.
    const x = randomFloats(4, 2);
    assertClose(
      (await context.run({ x: { data: x, shape: [1, 4] } })).outputs.y.data,
      affine.reference(x, 1).y,
      'y after profiling',
    );
  });

  test('BAD CALL - inputs that do not fit the engine are refused before anything is enqueued', async () => {
    await assert.rejects(
      context.run({ x: { data: randomFloats(36, 1), shape: [9, 4] } }),
      (error) =>
        error instanceof ArgumentRangeError &&
        isCode(
          'ERR_SHAPE',
          'Expected between 1 and 8 at dim 0 (optimization profile 0: min [1, 4], max [8, 4]) for input "x" but received [9, 4]',
        )(error),
    );
    await assert.rejects(
      context.run({ images: new Float32Array(4) }),
      isCode('ERR_INVALID_ARGUMENT', 'Expected only input names of the model ("x") in inputs but received "images"'),
    );
    await assert.rejects(
      context.run({ x: { data: new Float64Array(4), shape: [1, 4] } }),
      isCode('ERR_DTYPE', 'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 4'),
    );
    await assert.rejects(
      context.run({ x: { data: new Float32Array(5), shape: [1, 4] } }),
      isCode('ERR_SHAPE', 'Expected 4 elements (shape [1, 4]) for input "x" but received a Float32Array of length 5'),
    );
    const tooSmall = track(Tensor.allocate('float32', [2, 3], { location: 'pinned' }));
    await assert.rejects(
      context.run({ x: { data: randomFloats(12, 1), shape: [3, 4] } }, { outputTensors: { y: tooSmall } }),
      (error) =>
        error instanceof ArgumentRangeError &&
        isCode(
          'ERR_SHAPE',
          'Expected a tensor of at least 36 bytes for output "y" (float32 [3, 3]) but received a tensor of 24 bytes',
        )(error),
    );
    // The context is unharmed by all of it.
    const x = randomFloats(4, 8);
    assertClose(
      (await context.run({ x: { data: x, shape: [1, 4] } })).outputs.y.data,
      affine.reference(x, 1).y,
      'y after bad calls',
    );
  });

  test('BAD CALL - an aborted signal rejects with ERR_ABORTED', async () => {
    await assert.rejects(
      context.run({ x: { data: randomFloats(4, 1), shape: [1, 4] } }, { signal: AbortSignal.abort() }),
      isCode('ERR_ABORTED', 'ExecutionContext.run was aborted before it started'),
    );
  });
});

describe('CUDA graphs', { skip }, () => {
  let engine;
  before(async () => {
    engine = await loadAffineEngine();
  });
  after(() => engine?.dispose());
  afterEach(disposeTracked);

  test('graph and plain paths give identical outputs; a graph is captured per shape after one warm-up and replayed', async () => {
    const plain = await engine.createContext({ cudaGraph: false });
    const graphs = await engine.createContext({ cudaGraph: true });
    try {
      for (const batch of [2, 5]) {
        const x = randomFloats(batch * 4, 40 + batch);
        const reference = await plain.run({ x: { data: x, shape: [batch, 4] } });
        assert.equal(reference.cudaGraph, 'plain');
        const launches = [];
        for (let i = 0; i < 4; i++) {
          const result = await graphs.run({ x: { data: x, shape: [batch, 4] } });
          launches.push(result.cudaGraph);
          assert.deepEqual(
            result.outputs.y.data,
            reference.outputs.y.data,
            `y of ${result.cudaGraph} run ${i} (batch ${batch}) is bit-identical to the plain path`,
          );
          assert.deepEqual(result.outputs.z.data, reference.outputs.z.data);
        }
        assert.deepEqual(launches, ['plain', 'captured', 'replayed', 'replayed']);
      }
      // Back to the first shape: its graph is still cached.
      const x = randomFloats(8, 42);
      assert.equal((await graphs.run({ x: { data: x, shape: [2, 4] } })).cudaGraph, 'replayed');
      const status = graphs.cudaGraphs;
      assert.equal(status.mode, true);
      assert.equal(status.active, true);
      assert.equal(status.disabledReason, null);
      assert.equal(status.captures, 2);
      assert.equal(status.cachedGraphs, 2);
      assert.equal(status.replays, 5);
      assert.equal(plain.cudaGraphs.active, false);
    } finally {
      await plain.dispose();
      await graphs.dispose();
    }
  });

  test('device tensors bound across runs keep their graph (addresses are part of the key)', async () => {
    const context = await engine.createContext();
    try {
      const x = randomFloats(16, 77);
      const input = track(await Tensor.fromArray(x, { location: 'device', shape: [4, 4] }));
      const y = track(Tensor.allocate('float32', [4, 3], { location: 'device' }));
      const launches = [];
      for (let i = 0; i < 3; i++) launches.push((await context.run({ x: input }, { outputTensors: { y } })).cudaGraph);
      assert.deepEqual(launches, ['plain', 'captured', 'replayed']);
      assertClose(await y.toArray(), affine.reference(x, 4).y, 'y (graph, device)');
    } finally {
      await context.dispose();
    }
  });
});

describe('outputs with data-dependent shapes (NonZero)', { skip }, () => {
  let engine;
  before(async () => {
    engine = await loadNonZeroEngine();
  });
  after(() => engine?.dispose());

  test('go through an output allocator: the shape follows the data, run after run', async () => {
    const messages = [];
    const context = await engine.createContext({ logger: (message) => messages.push(message) });
    try {
      for (const x of [
        Float32Array.from([0, 1.5, 0, -2, 3, 0, 0, 4]),
        Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0]),
        new Float32Array(8),
      ]) {
        const { outputs } = await context.run({ x });
        const expected = nonZero.reference(x);
        assert.deepEqual(outputs.indices.shape, [2, expected.nnz]);
        assert.deepEqual(outputs.indices.data, expected.indices);
        assert.deepEqual(outputs.y.data, expected.y);
      }
      // 'auto' turned graphs off for this context, and said why, to the context's logger too.
      const status = context.cudaGraphs;
      assert.equal(status.active, false);
      assert.match(status.disabledReason, /output "indices" has a data-dependent shape/);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(
        messages.some(
          (message) =>
            message.severity === 'warning' &&
            message.message.includes('CUDA graphs are off for this execution context') &&
            message.context === context.logTarget,
        ),
      );
    } finally {
      await context.dispose();
    }
  });

  test('BAD CALL - CUDA graphs required (cudaGraph: true) with a data-dependent output', async () => {
    const context = await engine.createContext({ cudaGraph: true });
    try {
      await assert.rejects(
        context.run({ x: new Float32Array(8) }),
        isCode(
          'ERR_NOT_SUPPORTED',
          /^Cannot use CUDA graphs \(cudaGraph: true\) with this engine: output "indices" has a data-dependent shape/,
        ),
      );
    } finally {
      await context.dispose();
    }
  });
});

describe('lifetime', { skip }, () => {
  test('a context keeps its engine alive: disposing the Engine handle first is fine', async () => {
    const engine = await loadAffineEngine();
    const context = await engine.createContext();
    engine.dispose();
    assert.equal(engine.disposed, true);
    await assert.rejects(engine.createContext(), isCode('ERR_DISPOSED', 'The engine was disposed'));
    const x = randomFloats(4, 3);
    assertClose(
      (await context.run({ x: { data: x, shape: [1, 4] } })).outputs.y.data,
      affine.reference(x, 1).y,
      'y after engine.dispose()',
    );
    await context.dispose();
  });

  test('dispose() lets started runs finish, rejects queued ones with ERR_DISPOSED, is idempotent; later use throws', async () => {
    const engine = await loadAffineEngine();
    const context = await engine.createContext();
    engine.dispose();
    const x = randomFloats(32, 4);
    // A long profiling job first keeps the submit thread busy, so the runs behind it are still queued.
    const profiling = context.profileLayers({ x: { data: x, shape: [8, 4] } }, { iterations: 200 }).then(
      () => 'ok',
      (error) => error,
    );
    const runs = Array.from({ length: 50 }, () =>
      context.run({ x: { data: x, shape: [8, 4] } }).then(
        () => 'ok',
        (error) => error,
      ),
    );
    const disposed = context.dispose();
    assert.equal(context.dispose(), disposed, 'the same promise');
    await disposed;
    const outcomes = [await profiling, ...(await Promise.all(runs))];
    // Jobs run in call order: those that started before dispose() completed, every later one was rejected.
    const firstRejected = outcomes.findIndex((outcome) => outcome !== 'ok');
    for (const outcome of firstRejected < 0 ? [] : outcomes.slice(firstRejected)) {
      assert.notEqual(outcome, 'ok', 'no job runs after one was rejected');
      isCode('ERR_DISPOSED', /^The execution context was disposed before (this run|profiling) started$/)(outcome);
    }
    assert.equal(context.disposed, true);
    assert.equal(context.pending, 0);
    await assert.rejects(
      context.run({ x: { data: x, shape: [8, 4] } }),
      isCode('ERR_DISPOSED', 'The execution context was disposed and can no longer be used'),
    );
    assert.throws(
      () => context.cudaGraphs,
      isCode('ERR_DISPOSED', 'The execution context was disposed and can no longer be used'),
    );
  });

  test('await using: Symbol.asyncDispose disposes the context', async () => {
    const engine = await loadAffineEngine();
    const context = await engine.createContext();
    await context[Symbol.asyncDispose]();
    assert.equal(context.disposed, true);
    engine.dispose();
  });
});
