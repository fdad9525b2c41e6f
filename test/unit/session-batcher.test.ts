/**
 * The dynamic batcher on the cpu backend: stacking and splitting with results equal to unbatched
 * runs, requests of other shapes kept apart, errors kept per request, deadlines and aborts, queue
 * limits, preferred sizes and delays, metrics, disposal, and bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgumentRangeError, TensorRTNodeError } from '../../lib/core/errors.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { expectError } from '../helpers/expect-error.js';
import { chainModel, convNetModel, mlpModel, randomTensor } from '../helpers/onnx-fixtures.js';
import { GATHER_ROWS, addModel, gatherModel, scaleModel } from '../helpers/session-fixtures.js';

describe('session.batcher() (cpu)', () => {
  let mlp: InferenceSession;
  beforeAll(async () => {
    mlp = await InferenceSession.create(mlpModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
  });
  afterAll(async () => {
    await mlp?.dispose();
  });

  it('stacks concurrent requests into fewer executions; each gets exactly its unbatched result', async () => {
    const inputs = Array.from({ length: 100 }, (_, index) => randomTensor([1 + (index % 3), 16], 100 + index));
    const expected: Float32Array[] = [];
    for (const x of inputs) expected.push((await mlp.run({ x })).y!.data as Float32Array);
    const before = mlp.metrics();
    await using batcher = mlp.batcher({ maxBatchSize: 16 });
    const results = await Promise.all(inputs.map((x) => batcher.run({ x })));
    results.forEach((result, index) => {
      expect(result.y!.shape).toEqual([inputs[index]!.shape[0], 8]);
      expect(result.y!.data).toEqual(expected[index]);
    });
    const after = mlp.metrics();
    const rows = inputs.reduce((sum, x) => sum + x.shape[0]!, 0);
    expect(after.inferenceCount - before.inferenceCount).toBe(rows);
    expect(after.requestSuccess - before.requestSuccess).toBe(100);
    const executions = after.executionCount - before.executionCount;
    expect(executions).toBeLessThan(100);
    expect(executions).toBeGreaterThanOrEqual(Math.ceil(rows / 16));
  });

  it('keeps requests whose other dims differ in separate batches', async () => {
    await using session = await InferenceSession.create(scaleModel(), { backend: 'cpu' });
    await using batcher = session.batcher({ maxBatchSize: 64 });
    const inputs = Array.from({ length: 30 }, (_, index) => randomTensor([1, index % 2 === 0 ? 3 : 5], index));
    const results = await Promise.all(inputs.map((x) => batcher.run({ x })));
    results.forEach((result, index) => {
      expect(result.y!.shape).toEqual(inputs[index]!.shape);
      expect(Array.from(result.y!.data as Float32Array)).toEqual(
        Array.from(inputs[index]!.data, (value) => Math.fround(Math.fround(value * 2) + 1)),
      );
    });
    // Two shapes: at least two executions, never one stacking both.
    expect(session.metrics().executionCount).toBeGreaterThanOrEqual(2);
  });

  it('keeps errors per request: one request the model refuses fails alone, the others of its batch succeed', async () => {
    await using session = await InferenceSession.create(gatherModel(), { backend: 'cpu' });
    await using batcher = session.batcher({ maxBatchSize: 32, maxDelayMs: 20 });
    const indices = [3, 7, 99, 1, -2];
    const outcomes = await Promise.allSettled(indices.map((index) => batcher.run({ index: { data: [index], shape: [1, 1] } })));
    outcomes.forEach((outcome, position) => {
      const index = indices[position]!;
      if (index >= -GATHER_ROWS && index < GATHER_ROWS) {
        expect(outcome.status).toBe('fulfilled');
        const row = (index + GATHER_ROWS) % GATHER_ROWS;
        expect(
          Array.from((outcome as PromiseFulfilledResult<Awaited<ReturnType<typeof batcher.run>>>).value.y!.data as Float32Array),
        ).toEqual([row, row + 0.25, row + 0.5, row + 0.75]);
      } else {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason.code).toBe('ERR_ONNX');
      }
    });
    const metrics = session.metrics();
    expect(metrics.requestSuccess).toBe(4);
    expect(metrics.requestFailureByCode).toEqual({ ERR_ONNX: 1 });
  });

  it('waits up to maxDelayMs for a fuller batch, and sends a preferred size at once', async () => {
    await using waiting = mlp.batcher({ maxBatchSize: 8, maxDelayMs: 60 });
    const started = performance.now();
    await waiting.run({ x: randomTensor([1, 16], 1) });
    expect(performance.now() - started).toBeGreaterThanOrEqual(59);

    await using preferred = mlp.batcher({ maxBatchSize: 8, maxDelayMs: 60_000, preferredBatchSizes: [4] });
    const before = mlp.metrics().executionCount;
    const results = await Promise.all([1, 2, 3, 4].map((seed) => preferred.run({ x: randomTensor([1, 16], seed) })));
    expect(results).toHaveLength(4);
    expect(mlp.metrics().executionCount - before).toBe(1);
  });

  it('BAD CALL - aborts and deadlines reject with their codes while pending and while executing; the batch goes on', async () => {
    await using session = await InferenceSession.create(chainModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    await using batcher = session.batcher({ maxBatchSize: 4096 });
    const big = randomTensor([2048, 256], 1);
    const executing = batcher.run({ x: big }, { timeoutMs: 5 });
    const controller = new AbortController();
    const pending = batcher.run({ x: randomTensor([1, 256], 2) }, { signal: controller.signal });
    const survivor = batcher.run({ x: randomTensor([1, 256], 3) });
    controller.abort('changed my mind');
    await expectError(() => pending, TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (changed my mind)');
    await expectError(
      () => executing,
      TensorRTNodeError,
      'ERR_TIMEOUT',
      'The run timed out after 5 ms (options.timeoutMs) while executing',
    );
    expect((await survivor).y!.shape).toEqual([1, 256]);
    await expectError(
      () => batcher.run({ x: randomTensor([1, 256], 4) }, { signal: AbortSignal.abort('early') }),
      TensorRTNodeError,
      'ERR_ABORTED',
      'The run was aborted (early)',
    );
  });

  it('BAD CALL - flooding beyond maxQueue rejects with ERR_QUEUE_FULL', async () => {
    await using session = await InferenceSession.create(chainModel(), { backend: 'cpu', cpu: { intraOpNumThreads: 1 } });
    await using batcher = session.batcher({ maxQueue: 2, maxBatchSize: 4 });
    const first = batcher.run({ x: randomTensor([4, 256], 1) });
    const queued = [batcher.run({ x: randomTensor([4, 256], 2) }), batcher.run({ x: randomTensor([4, 256], 3) })];
    await expectError(
      () => batcher.run({ x: randomTensor([1, 256], 4) }),
      TensorRTNodeError,
      'ERR_QUEUE_FULL',
      'The run queue is full (options.maxQueue: 2 runs waiting); retry later or raise maxQueue',
    );
    expect((await Promise.all([first, ...queued])).map((result) => result.y!.shape[0])).toEqual([4, 4, 4]);
  });

  it('BAD CALL - requests larger than maxBatchSize, inconsistent batch sizes inside one request, bad feeds', async () => {
    await using batcher = mlp.batcher({ maxBatchSize: 8 });
    await expectError(
      () => batcher.run({ x: randomTensor([9, 16], 1) }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected between 1 and 8 rows (maxBatchSize) at dim 0 for input "x" but received [9, 16]',
    );
    await expectError(
      () => batcher.run({ x: { data: new Float32Array(0), shape: [0, 16] } }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected between 1 and 8 rows (maxBatchSize) at dim 0 for input "x" but received [0, 16]',
    );
    await expectError(
      () => batcher.run({ x: { data: new Float64Array(16), shape: [1, 16] } } as never),
      TypeError,
      'ERR_DTYPE',
      'Expected a Float32Array for input "x" (float32) but received a Float64Array of length 16',
    );
    await using session = await InferenceSession.create(addModel(), { backend: 'cpu' });
    await using adder = session.batcher();
    await expectError(
      () => adder.run({ a: randomTensor([2, 4], 1), b: randomTensor([3, 4], 2) }),
      ArgumentRangeError,
      'ERR_SHAPE',
      'Expected the same dim 0 (batch size) in every input of one request for input "b" but received [3, 4] while input "a" has 2 rows',
    );
    const sum = await adder.run({ a: randomTensor([2, 4], 1), b: randomTensor([2, 4], 2) });
    expect(sum.y!.shape).toEqual([2, 4]);
  });

  it('BAD CALL - models without a dynamic batch dim, and bad options', async () => {
    await using conv = await InferenceSession.create(convNetModel(), { backend: 'cpu' });
    expect(() => conv.batcher()).toThrow(
      'Expected a dynamic dim 0 (the batch dim) in every input and output for session.batcher() but received input "x" with shape [1, 3, 16, 16]',
    );
    expect(() => mlp.batcher({ maxBatchSze: 4 } as never)).toThrow(
      /^Unknown option "maxBatchSze" in options \(did you mean "maxBatchSize"\?\)/,
    );
    expect(() => mlp.batcher({ maxBatchSize: 8, preferredBatchSizes: [16] })).toThrow(
      'Expected a positive integer <= 8 for options.preferredBatchSizes[0] but received 16 of type number',
    );
  });

  it('dispose(): pending requests reject with ERR_DISPOSED, later calls too; executing ones complete', async () => {
    const batcher = mlp.batcher({ maxDelayMs: 60_000, maxBatchSize: 64 });
    const pending = batcher.run({ x: randomTensor([1, 16], 1) });
    const rejected = expectError(
      () => pending,
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The batcher was disposed and can no longer be used',
    );
    await batcher.dispose();
    await rejected;
    await expectError(
      () => batcher.run({ x: randomTensor([1, 16], 2) }),
      TensorRTNodeError,
      'ERR_DISPOSED',
      'The batcher was disposed and can no longer be used',
    );
  });

  it('exposes Triton-style metrics as an object and as Prometheus text', async () => {
    await using session = await InferenceSession.create(mlpModel(), { backend: 'cpu', name: 'scorer' });
    await using batcher = session.batcher({ maxBatchSize: 8 });
    await Promise.all(Array.from({ length: 10 }, (_, index) => batcher.run({ x: randomTensor([1, 16], index) })));
    await expect(batcher.run({ x: randomTensor([1, 16], 1) }, { signal: AbortSignal.abort() })).rejects.toThrow();
    const metrics = session.metrics();
    expect(metrics).toMatchObject({
      model: 'scorer',
      backend: 'cpu',
      requestSuccess: 10,
      requestFailure: 1,
      requestFailureByCode: { ERR_ABORTED: 1 },
      inferenceCount: 10,
      queueLength: 0,
      executionsInFlight: 0,
    });
    expect(metrics.executionCount).toBeGreaterThanOrEqual(2);
    expect(metrics.queueDuration.count).toBe(10);
    expect(metrics.computeDuration.count).toBe(metrics.executionCount);
    expect(metrics.requestDuration.count).toBe(11);
    const text = session.prometheusMetrics();
    expect(text).toContain(
      '# TYPE tensorrt_node_request_success_total counter\ntensorrt_node_request_success_total{model="scorer",backend="cpu"} 10\n',
    );
    expect(text).toContain('tensorrt_node_request_failure_total{model="scorer",backend="cpu",code="ERR_ABORTED"} 1\n');
    expect(text).toContain(`tensorrt_node_execution_count_total{model="scorer",backend="cpu"} ${metrics.executionCount}\n`);
    expect(text).toContain('tensorrt_node_queue_duration_seconds_bucket{model="scorer",backend="cpu",le="+Inf"} 10\n');
    expect(text).toMatch(/# TYPE tensorrt_node_compute_duration_seconds histogram\n/);
  });
});
