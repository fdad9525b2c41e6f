/**
 * The native argument-check fuzzer, run in a child process by test/fuzz/properties/native.ts so that
 * a crash (a signal, an abort) is seen as a failure instead of killing the runner. It calls every
 * entry point this build of the addon exports with generated arguments: wrong types, NaN, huge and
 * negative numbers, empty and detached buffers, hostile objects whose getters throw, Proxies.
 *
 * Invariant: each call returns (or resolves), or throws (or rejects) an error of the tensorrt-node
 * family; the only other errors allowed are the hostile objects' own, which N-API passes through.
 *
 * Usage: native-child.ts <numRuns> <seed>. Prints {"runs": N, "calls": {...}} and exits 0, or
 * prints the counterexample and exits 1.
 */
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { isTensorRTNodeError } from '../../lib/core/errors.js';
import { loadAddon } from '../../lib/addon/loader.js';
import { type NativeAddon } from '../../lib/addon/types.js';

const [numRuns = '1000', seed = '1'] = process.argv.slice(2);
const { addon } = loadAddon();

class HostileError extends Error {}
class Hostile {
  constructor(readonly kind: 'getters' | 'proxy') {}
}
const hostile = {
  get device(): number {
    throw new HostileError('getter device');
  },
  get libraryPath(): string {
    throw new HostileError('getter libraryPath');
  },
  get batch(): number {
    throw new HostileError('getter batch');
  },
};
const proxy = new Proxy(
  {},
  {
    get: () => {
      throw new HostileError('proxy get');
    },
    has: () => {
      throw new HostileError('proxy has');
    },
    ownKeys: () => {
      throw new HostileError('proxy ownKeys');
    },
  },
);

function detached(): Uint8Array {
  const view = new Uint8Array(16);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

/** Paths that exist nowhere, or are harmless folders: never a library a random string could name. */
const path = fc.oneof(
  fc.constantFrom('', '/nonexistent/libnvinfer.so.10', tmpdir(), '/', '.', '..', 'a\0b', '/dev/null', '/proc/self/mem'),
  fc.string().map((text) => `/nonexistent/${text}`),
);
const special = fc.constantFrom<unknown>(
  NaN,
  Infinity,
  -Infinity,
  -0,
  0,
  1,
  -1,
  0.5,
  3,
  4,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  2 ** 64,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  'float32',
  'float16',
  'float32-to-float16',
  'enqueue',
  'done',
  true,
  false,
  null,
  undefined,
  0n,
  2n ** 70n,
);
const buffers = fc.constantFrom<() => unknown>(
  () => new Uint8Array(0),
  () => new Uint8Array(64),
  () => new Float32Array(4),
  () => new ArrayBuffer(8),
  () => new DataView(new ArrayBuffer(4)),
  () => Buffer.alloc(3),
  () => new Uint8Array(new SharedArrayBuffer(8)),
  detached,
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: special },
  {
    weight: 2,
    arbitrary: fc.anything({
      withTypedArray: true,
      withBigInt: true,
      withMap: true,
      withSet: true,
      withDate: true,
      withNullPrototype: true,
      withSparseArray: true,
      withBoxedValues: true,
      maxDepth: 2,
    }),
  },
  { weight: 2, arbitrary: buffers.map((make) => make()) },
  { weight: 1, arbitrary: path },
  // Stand-ins, swapped for the hostile objects at call time (fast-check itself must not touch them).
  { weight: 1, arbitrary: fc.constantFrom<unknown>(new Hostile('getters'), new Hostile('proxy')) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        device: fc.oneof(special, fc.integer()),
        allowHostCode: special,
        libraryPath: path,
        extraDirs: fc.oneof(fc.array(path, { maxLength: 3 }), special),
        library: path,
        profiles: fc.oneof(
          special,
          fc.array(
            fc.array(
              fc.record(
                {
                  input: fc.oneof(fc.string(), special),
                  min: fc.array(fc.oneof(special, fc.integer())),
                  opt: fc.array(special),
                  max: fc.array(fc.integer()),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 2 },
            ),
            { maxLength: 2 },
          ),
        ),
        workspaceBytes: special,
        optimizationLevel: special,
        timingCache: fc.oneof(
          special,
          buffers.map((make) => make()),
        ),
        hardwareCompatibility: fc.oneof(special, fc.string()),
        batch: special,
        height: special,
        width: special,
        srcChannels: special,
        channelMap: fc.array(special, { maxLength: 4 }),
        alpha: fc.array(special, { maxLength: 4 }),
        beta: fc.array(special, { maxLength: 4 }),
        outputType: special,
      },
      { requiredKeys: [] },
    ),
  },
);

type EntryPoint = { name: string; call: (args: unknown[]) => unknown };
const lateFailures: string[] = [];

function entryPoints(native: NativeAddon): EntryPoint[] {
  const any = native as unknown as Record<string, (...args: unknown[]) => unknown>;
  const construct = (name: string) => (args: unknown[]) =>
    new (any[name] as unknown as new (...args: unknown[]) => unknown)(...args);
  const functions = [
    'buildInfo',
    'tensorrtProbe',
    'throwForTest',
    'cudaProbe',
    'loadEngine',
    'cudaDeviceCount',
    'cudaDevice',
    'cudaMemoryInfo',
    'cudaStreamPriorityRange',
    'cudaPointerKind',
    'cudaAddressOf',
    'cudaAllocationStats',
  ];
  const classes = ['StreamWrap', 'EventWrap', 'PinnedBufferWrap', 'DeviceBufferWrap', 'CompletionQueueForTest'];
  const points: EntryPoint[] = [];
  for (const name of functions)
    if (typeof any[name] === 'function') points.push({ name, call: (args) => any[name]!.apply(native, args) });
  for (const name of classes) if (typeof any[name] === 'function') points.push({ name: `new ${name}`, call: construct(name) });
  if (typeof any.buildEngine === 'function') {
    points.push({
      name: 'buildEngine',
      call: (args) => {
        const job = any.buildEngine!.apply(native, args) as { promise: Promise<unknown>; cancel(): void };
        if (args.length % 2 === 0) job.cancel();
        return job.promise;
      },
    });
  }
  // setErrorFactory with anything but a function must throw and keep the factory (every other error depends on it).
  points.push({
    name: 'setErrorFactory (non-functions)',
    call: (args) => {
      if (typeof args[0] === 'function') return undefined;
      try {
        native.setErrorFactory(args[0] as never);
      } catch (error) {
        if (!(error instanceof TypeError) || error.message !== 'Expected a function for errorFactory') throw error;
        return undefined;
      }
      throw new Error('setErrorFactory accepted a non-function');
    },
  });
  // A queue for the test hook's methods (submit with fuzzed delays and failure points).
  const queue = new (any.CompletionQueueForTest as unknown as new () => { submit(...args: unknown[]): unknown; close(): void })();
  points.push({
    name: 'CompletionQueueForTest.submit',
    call: (args) => {
      // Accepted delays go up to a minute: the promise is checked when it settles, not awaited.
      const promise = queue.submit(...args) as Promise<unknown>;
      promise.catch((error: unknown) => {
        if (!isTensorRTNodeError(error))
          lateFailures.push(`CompletionQueueForTest.submit rejected with an untyped ${String(error)}`);
      });
      return undefined;
    },
  });
  return points;
}

const points = entryPoints(addon);
const calls: Record<string, { calls: number; threw: number }> = Object.fromEntries(
  points.map((point) => [point.name, { calls: 0, threw: 0 }]),
);

function settle<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no settlement within ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const property = fc.asyncProperty(fc.nat({ max: points.length - 1 }), fc.array(value, { maxLength: 5 }), async (which, args) => {
  const point = points[which]!;
  calls[point.name]!.calls++;
  const real = args.map((arg) => (arg instanceof Hostile ? (arg.kind === 'proxy' ? proxy : hostile) : arg));
  try {
    const result = point.call(real);
    if (result instanceof Promise) await settle(result, 20_000);
    else if (
      result &&
      typeof result === 'object' &&
      'dispose' in result &&
      typeof (result as { dispose: unknown }).dispose === 'function'
    )
      (result as { dispose(): void }).dispose();
  } catch (error) {
    calls[point.name]!.threw++;
    if (isTensorRTNodeError(error) || error instanceof HostileError) return;
    throw new Error(
      `${point.name}(${args.map((arg) => fc.stringify(arg)).join(', ')}) threw an untyped ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      { cause: error },
    );
  }
});

const details = await fc.check(property, { numRuns: Number(numRuns), seed: Number(seed), endOnFailure: true });
await new Promise((resolve) => setTimeout(resolve, 50)); // let short submitted jobs settle
if (lateFailures.length > 0) {
  process.stdout.write(JSON.stringify({ runs: details.numRuns, failure: lateFailures.join('\n'), calls }));
  process.exit(1);
}
if (details.failed) {
  const cause =
    details.errorInstance instanceof Error
      ? `${details.errorInstance.message}\n${details.errorInstance.stack ?? ''}`
      : String(details.errorInstance);
  process.stdout.write(
    JSON.stringify({ runs: details.numRuns, failure: `${fc.defaultReportMessage(details) ?? 'failed'}\n${cause}`, calls }),
  );
  process.exit(1);
}
process.stdout.write(JSON.stringify({ runs: details.numRuns, failure: null, calls }));
process.exit(0);
