/**
 * Sessions, batchers, backends and metrics: duration options beyond the timer range (a timeout of
 * 2^32 ms used to fire after 1 ms), objects built by hand where the package builds them, and feeds
 * beyond this Node.js's buffer limit. Reproductions of issue 19 (#7, #9).
 */
import { constants as bufferConstants } from 'node:buffer';
import { join } from 'node:path';
import {
  BackendGroup,
  Batcher,
  createCpuBackend,
  createTensorRTBackend,
  EngineCache,
  formatPrometheus,
  InferenceSession,
} from '../../../lib/index.js';
import { ArgumentRangeError, ArgumentTypeError } from '../../../lib/core/errors.js';
import { packageRoot } from '../../../lib/addon/loader.js';
import { row, type MatrixContext, type MatrixTable } from '../matrix.js';

const T = ArgumentTypeError;
const R = ArgumentRangeError;
const never = <V>(value: unknown) => value as V;
const mlp = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
const x = { dtype: 'float32' as const, shape: [2, 16], data: new Float32Array(32) };
const timerRange = 'a number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait)';

/** One cpu session for the run (mlp: x [batch, 16] -> y [batch, 8]). */
function session(context: MatrixContext): Promise<InferenceSession> {
  return context.once(
    'matrix-session',
    () => InferenceSession.create(mlp, { backend: 'cpu', cpu: { intraOpNumThreads: 1 } }),
    (live) => live.dispose(),
  );
}

/** A feed of 4 GiB + 64 bytes whose memory is never touched (the ArrayBuffer is only reserved). */
function fourGiBFeed() {
  const rows = 2 ** 32 / 64 + 1;
  return { dtype: 'float32' as const, shape: [rows, 16], data: new Float32Array(new ArrayBuffer(rows * 64)) };
}

export const sessionTable: MatrixTable = {
  surface: 'InferenceSession, batcher, backends and metrics',
  rows: [
    row(
      'InferenceSession.create() with timeoutMs 2^32 (a timer would fire after 1 ms)',
      () => InferenceSession.create(mlp, { backend: 'cpu', timeoutMs: 2 ** 32 }),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        `Expected ${timerRange} or Infinity for no limit for options.timeoutMs but received 4294967296 of type number`,
      ],
    ),
    row('InferenceSession.create() with timeoutMs NaN', () => InferenceSession.create(mlp, { backend: 'cpu', timeoutMs: NaN }), [
      R,
      'ERR_INVALID_ARGUMENT',
      `Expected ${timerRange} or Infinity for no limit for options.timeoutMs but received NaN of type number`,
    ]),
    row('run() with timeoutMs 2^31', async (context) => (await session(context)).run({ x }, { timeoutMs: 2 ** 31 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      `Expected ${timerRange} or Infinity for no limit for options.timeoutMs but received 2147483648 of type number`,
    ]),
    row('run() with timeoutMs "5s"', async (context) => (await session(context)).run({ x }, { timeoutMs: never('5s') }), [
      T,
      'ERR_INVALID_ARGUMENT',
      `Expected ${timerRange} or Infinity for no limit for options.timeoutMs but received "5s" of type string`,
    ]),
    row(
      'batcher() with maxDelayMs 2^40 (re-armed every millisecond, forever)',
      async (context) => (await session(context)).batcher({ maxDelayMs: 2 ** 40 }),
      [R, 'ERR_INVALID_ARGUMENT', `Expected ${timerRange} for options.maxDelayMs but received 1099511627776 of type number`],
    ),
    row('batcher() with maxDelayMs Infinity', async (context) => (await session(context)).batcher({ maxDelayMs: Infinity }), [
      R,
      'ERR_INVALID_ARGUMENT',
      `Expected ${timerRange} for options.maxDelayMs but received Infinity of type number`,
    ]),
    row('batcher() with timeoutMs -1', async (context) => (await session(context)).batcher({ timeoutMs: -1 }), [
      R,
      'ERR_INVALID_ARGUMENT',
      `Expected ${timerRange} or Infinity for no limit for options.timeoutMs but received -1 of type number`,
    ]),
    row(
      'EngineCache.open() with lockTimeoutMs 2^40',
      (context) => EngineCache.open(join(context.folder, 'lock-timeout'), { lockTimeoutMs: 2 ** 40 }),
      [
        R,
        'ERR_INVALID_ARGUMENT',
        'Expected a positive number of milliseconds up to 2147483647 (about 24.8 days, the longest a timer can wait) or Infinity for no limit for options.lockTimeoutMs but received 1099511627776 of type number',
      ],
    ),
    row(
      'new Batcher({}, {}) instead of session.batcher()',
      () => new (Batcher as unknown as new (...args: unknown[]) => unknown)({}, {}),
      [
        T,
        'ERR_INVALID_ARGUMENT',
        "Expected a session's internals for new Batcher() but received an object; create a Batcher with session.batcher(options)",
      ],
    ),
    row('new BackendGroup(null)', () => new BackendGroup(never(null)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of backends for a BackendGroup but received null',
    ]),
    row('new BackendGroup([{}])', () => new BackendGroup(never([{}])), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a Backend (from createCpuBackend() or createTensorRTBackend()) for members[0] of a BackendGroup but received an object',
    ]),
    row('formatPrometheus([{}])', () => formatPrometheus(never([{}])), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected a snapshot from session.metrics() for snapshots[0] but received an object',
    ]),
    row('formatPrometheus(undefined)', () => formatPrometheus(never(undefined)), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an array of session.metrics() snapshots for snapshots but received undefined',
    ]),
    row('createTensorRTBackend() with an engine path', () => createTensorRTBackend(never('/models/engine.plan'), 1, {}), [
      T,
      'ERR_INVALID_ARGUMENT',
      'Expected an Engine (from Engine.load()) for engine but received "/models/engine.plan" of type string',
    ]),
    row(
      'cpu backend run() with a 4 GiB feed (past the Buffer limit of Node 20)',
      async (context) => {
        const backend = await context.once(
          'matrix-cpu-backend',
          () => createCpuBackend(mlp, { intraOpNumThreads: 1 }),
          (live) => live.dispose(),
        );
        return backend.run({ x: fourGiBFeed() });
      },
      [
        R,
        'ERR_SHAPE',
        `Expected at most 4294967296 bytes (the largest Buffer of this Node.js) for input "x" on the cpu backend but received 4294967360 bytes`,
      ],
      bufferConstants.MAX_LENGTH > 2 ** 32 ? 'this Node.js has no 4 GiB Buffer limit' : false,
    ),
  ],
};
