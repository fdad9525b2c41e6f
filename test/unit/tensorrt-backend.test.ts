// The tensorrt backend's own logic, which runs without a GPU: option checks of its factory, the
// refusal of engines JavaScript cannot exchange data with, profile routing, output selection,
// aborts and disposal. The engine and contexts here are scheduling doubles that record what the
// backend asked of them and hand the inputs back unchanged; they compute nothing and stand in for
// nothing TensorRT does. Real inference on the tensorrt backend is test/gpu/session-tensorrt.test.mjs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTensorRTBackend, profileFor } from '../../lib/backends/tensorrt/backend.js';
import { tensorrtBackendFactory } from '../../lib/session/factories/tensorrt.js';
import type { BackendRequest } from '../../lib/session/registry.js';
import { Engine } from '../../lib/tensorrt/engine.js';
import type { EngineMetadata } from '../../lib/addon/types.js';
import { engineInputs, engineOutputs } from '../../lib/tensorrt/validation.js';
import { ArgumentRangeError, ArgumentTypeError, TensorRTNodeError } from '../../lib/core/errors.js';
import type { ContextOptions, ExecutionContext, ContextRunResult } from '../../lib/tensorrt/execution-context.js';
import { packageRoot } from '../../lib/addon/loader.js';
import { InferenceSession } from '../../lib/session/inference-session.js';
import { expectError } from '../helpers/expect-error.js';
import { mlpModel } from '../helpers/onnx-fixtures.js';

function fixture(name: string): EngineMetadata {
  return JSON.parse(
    readFileSync(join(packageRoot, 'test', 'fixtures', 'engine-metadata', `${name}.json`), 'utf8'),
  ) as EngineMetadata;
}

const detector = fixture('detector-dynamic-batch');

interface DoubleRun {
  profile: number;
  inputs: Record<string, { shape: readonly number[] }>;
  release: () => void;
}

/** An Engine double: contexts record runs and resolve when the test releases them, echoing `images` as both outputs. */
function engineDouble(metadata: EngineMetadata) {
  const runs: DoubleRun[] = [];
  const created: { profile: number; disposed: boolean }[] = [];
  let engineDisposed = false;
  const engine = {
    metadata,
    inputs: engineInputs(metadata),
    outputs: engineOutputs(metadata),
    dispose: () => {
      engineDisposed = true;
    },
    createContext: async (options: ContextOptions) => {
      const record = { profile: options.profile ?? 0, disposed: false };
      created.push(record);
      return {
        run: (inputs: DoubleRun['inputs']) =>
          new Promise<ContextRunResult>((resolve) => {
            const images = inputs.images as unknown as ContextRunResult['outputs'][string];
            runs.push({
              profile: record.profile,
              inputs,
              release: () =>
                resolve({
                  outputs: { boxes: images, scores: images },
                  bound: {},
                  cudaGraph: 'none' as ContextRunResult['cudaGraph'],
                  timing: null,
                }),
            });
          }),
        dispose: async () => {
          record.disposed = true;
        },
      } as unknown as ExecutionContext;
    },
  } as unknown as Engine;
  // An Engine to createTensorRTBackend's check (its own properties stand in for the native handle's).
  Object.setPrototypeOf(engine, Engine.prototype);
  return { engine, runs, created, engineDisposed: () => engineDisposed };
}

const images = (batch: number) => ({
  dtype: 'float32' as const,
  shape: [batch, 3, 640, 640],
  data: new Float32Array(batch * 3 * 640 * 640),
});

/** Resolves once `count` runs reached the double. */
async function runsReached(runs: DoubleRun[], count: number): Promise<void> {
  while (runs.length < count) await new Promise((resolve) => setImmediate(resolve));
}

function request(overrides: Partial<BackendRequest>): BackendRequest {
  return {
    model: { kind: 'onnx', source: new Uint8Array([1]), label: '<onnx bytes>' },
    precision: 'fp32',
    calibration: undefined,
    profiles: undefined,
    cacheDir: undefined,
    device: undefined,
    contexts: 1,
    cudaGraph: 'auto',
    backendOptions: undefined,
    explicit: true,
    ...overrides,
  };
}

describe('tensorrt backend', () => {
  it('routes a request to the first optimization profile that holds its shapes', () => {
    expect(profileFor(detector, { images: { shape: [8, 3, 640, 640] } })).toBe(0);
    const singleFirst = structuredClone(detector);
    singleFirst.profiles.reverse();
    expect(profileFor(singleFirst, { images: { shape: [1, 3, 640, 640] } })).toBe(0);
    expect(profileFor(singleFirst, { images: { shape: [4, 3, 640, 640] } })).toBe(1);
    expect(profileFor(detector, { images: { shape: [64, 3, 640, 640] } })).toBe(0);
    expect(profileFor({ ...detector, profiles: [] }, { images: { shape: [1, 3, 640, 640] } })).toBe(0);
  });

  it('creates one profile-0 context per slot up front, the others on first use, and disposes them all with the engine', async () => {
    const metadata = structuredClone(detector);
    metadata.profiles.reverse(); // profile 0 takes only batch 1, profile 1 up to 32
    const double = engineDouble(metadata);
    const backend = await createTensorRTBackend(double.engine, 2, { cudaGraph: 'auto' });
    expect(backend).toMatchObject({ kind: 'tensorrt', concurrency: 2, bindingLocations: ['pinned', 'device'] });
    expect(backend.inputs).toEqual([{ name: 'images', dtype: 'float32', shape: [-1, 3, 640, 640] }]);
    expect(double.created).toEqual([
      { profile: 0, disposed: false },
      { profile: 0, disposed: false },
    ]);
    const pending = backend.run({ images: images(4) }, { outputs: ['scores'] });
    await runsReached(double.runs, 1);
    expect(double.runs[0]!.profile).toBe(1);
    double.runs[0]!.release();
    const result = await pending;
    expect(Object.keys(result)).toEqual(['scores']);
    expect(result.scores!.shape).toEqual([4, 3, 640, 640]);
    await backend.dispose();
    expect(double.created).toHaveLength(3);
    expect(double.created.every((context) => context.disposed)).toBe(true);
    expect(double.engineDisposed()).toBe(true);
  });

  it('keeps `contexts` requests executing at once and queues the rest in call order', async () => {
    const double = engineDouble(detector);
    await using backend = await createTensorRTBackend(double.engine, 2, { cudaGraph: false });
    const settled: number[] = [];
    const all = [1, 2, 3].map((batch) => backend.run({ images: images(batch) }).then(() => settled.push(batch)));
    await runsReached(double.runs, 2);
    expect(double.runs.map((run) => run.inputs.images!.shape[0])).toEqual([1, 2]);
    double.runs[1]!.release();
    await runsReached(double.runs, 3);
    expect(double.runs[2]!.inputs.images!.shape[0]).toBe(3);
    double.runs[0]!.release();
    double.runs[2]!.release();
    await Promise.all(all);
    expect(settled).toEqual([2, 1, 3]);
  });

  it('BAD CALL - an abort while executing rejects at once; the slot stays usable', async () => {
    const double = engineDouble(detector);
    await using backend = await createTensorRTBackend(double.engine, 1, { cudaGraph: 'auto' });
    const controller = new AbortController();
    const aborted = backend.run({ images: images(1) }, { signal: controller.signal });
    await runsReached(double.runs, 1);
    controller.abort(new Error('client went away'));
    await expectError(() => aborted, TensorRTNodeError, 'ERR_ABORTED', 'The run was aborted (client went away)');
    double.runs[0]!.release();
    const next = backend.run({ images: images(2) });
    await runsReached(double.runs, 2);
    double.runs[1]!.release();
    expect((await next).boxes!.shape).toEqual([2, 3, 640, 640]);
  });

  it('BAD CALL - feeds and output names get the same checks and messages as on the cpu backend', async () => {
    const double = engineDouble(detector);
    await using backend = await createTensorRTBackend(double.engine, 1, { cudaGraph: 'auto' });
    await expectError(
      () => backend.run({ image: images(1) }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only input names of the model ("images") in feeds but received "image" (did you mean "images"?)',
    );
    await expectError(
      () => backend.run({ images: { ...images(1), dtype: 'float16', data: new Uint16Array(1) } }),
      ArgumentTypeError,
      'ERR_DTYPE',
      'Expected dtype "float32" for input "images" but received "float16" of type string',
    );
    await expectError(
      () => backend.run({ images: images(1) }, { outputs: ['boxs'] }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected only output names of the model ("boxes", "scores") in options.outputs but received "boxs" (did you mean "boxes"?)',
    );
    expect(double.runs).toHaveLength(0);
  });

  it('BAD CALL - an engine whose I/O JavaScript cannot hold is refused and released', async () => {
    const double = engineDouble(fixture('int4-weights-output'));
    await expectError(
      () => createTensorRTBackend(double.engine, 1, { cudaGraph: 'auto' }),
      TensorRTNodeError,
      'ERR_NOT_SUPPORTED',
      /^The engine has inputs or outputs the tensorrt backend cannot exchange with JavaScript: "[^"]+" \(output "[^"]+" has dtype int4, which tensorrt-node cannot bind\)\. Keep such types inside the network/,
    );
    expect(double.created).toHaveLength(0);
    expect(double.engineDisposed()).toBe(true);
  });

  it('BAD CALL - the factory refuses unknown options.tensorrt names and a precision for an engine file before loading anything', async () => {
    await expectError(
      () => tensorrtBackendFactory.create(request({ backendOptions: { workspaces: '1GiB' } })),
      ArgumentRangeError,
      'ERR_UNKNOWN_OPTION',
      /^Unknown option "workspaces" in options\.tensorrt \(did you mean "workspace"\?\)/,
    );
    await expectError(
      () =>
        tensorrtBackendFactory.create(
          request({ model: { kind: 'engine', source: 'model.engine', label: 'model.engine' }, precision: 'fp16' }),
        ),
      TensorRTNodeError,
      'ERR_NOT_SUPPORTED',
      'options.precision "fp16" cannot apply to model.engine: an engine\'s precision is fixed when it is built. Omit options.precision, or give the ONNX model.',
    );
  });

  it('BAD CALL - options.cudaGraph takes "auto", true or false; cpu by name refuses only true', async () => {
    await expectError(
      () => InferenceSession.create(mlpModel(), { cudaGraph: 'always' as never }),
      ArgumentRangeError,
      'ERR_INVALID_ARGUMENT',
      'Expected "auto", true or false for options.cudaGraph but received "always" of type string',
    );
    await expectError(
      () => InferenceSession.create(mlpModel(), { cudaGraph: 1 as never }),
      ArgumentTypeError,
      'ERR_INVALID_ARGUMENT',
      'Expected "auto", true or false for options.cudaGraph but received 1 of type number',
    );
    await using session = await InferenceSession.create(mlpModel(), { backend: 'cpu', cudaGraph: 'auto' });
    expect(session.backend).toBe('cpu');
  });
});
