/**
 * The FAKE TensorRT of the emulated tier (native/emulated/tensorrt), for JS tests that run the whole
 * stack (lib -> N-API -> native/trt -> CUDA layer) on the EMULATED device: tiny ONNX models the fake
 * builds, the fake's folder for `libraryPath`, its call log, and the exact results its engines
 * compute (float32 arithmetic). Emulation proves plumbing, lifetimes and protocol, never GPU
 * numerics or speed.
 *
 * The emulated addon and the fake are built into build-emulated/ (cmake-js with
 * -DTRT_NODE_EMULATED_DEVICE=ON); test files load that addon through TENSORRT_NODE_ADDON (set by the
 * vitest project `emulated`) and name a log file for the fake with TRT_NODE_FAKE_TENSORRT_LOG.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElementType, encodeModel } from './tiny-onnx.mjs';

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The emulated addon under test (build-emulated/, or build-emulated-asan/ under npm run test:asan). */
export const emulatedAddonPath =
  process.env.TENSORRT_NODE_ADDON ?? join(projectRoot, 'build-emulated', 'Release', 'tensorrt_node.node');
/** The fake TensorRT of the same build (it shares that build's emulated CUDA runtime). */
export const fakeTensorRTDir = join(dirname(dirname(emulatedAddonPath)), 'fake-tensorrt');

/** Why the emulated tier cannot run here, or null when it can (the build exists). */
export const emulatedSkipReason: string | null = !existsSync(emulatedAddonPath)
  ? `the emulated addon ${emulatedAddonPath} is not built (npm run test:emulated builds it)`
  : !existsSync(join(fakeTensorRTDir, 'libnvinfer.so.10')) && !existsSync(join(fakeTensorRTDir, 'libnvinfer.so.11'))
    ? `the fake TensorRT is not built in ${fakeTensorRTDir}`
    : null;

/**
 * Names a fresh log file for the fake (read by the fake when it records its first call in this
 * process) and returns a reader of the lines recorded since a mark.
 */
export function useFakeTensorRTLog(): {
  lines(): string[];
  mark(): number;
  since(mark: number): string[];
  violations(): string[];
} {
  const file = join(mkdtempSync(join(tmpdir(), 'fake-trt-log-')), 'calls.log');
  process.env.TRT_NODE_FAKE_TENSORRT_LOG ??= file;
  const path = process.env.TRT_NODE_FAKE_TENSORRT_LOG;
  const lines = () =>
    existsSync(path)
      ? readFileSync(path, 'utf8')
          .split('\n')
          .filter((line) => line.length > 0)
      : [];
  return {
    lines,
    mark: () => lines().length,
    since: (mark) => lines().slice(mark),
    violations: () => lines().filter((line) => line.includes(' VIOLATION ')),
  };
}

/** Index of the first line at or after `from` containing every fragment, or -1. */
export function findLine(lines: readonly string[], fragments: readonly string[], from = 0): number {
  for (let index = from; index < lines.length; index++) {
    if (fragments.every((fragment) => lines[index]!.includes(fragment))) return index;
  }
  return -1;
}

const f32 = Math.fround;

/** y = x * a + b in float32, as the fake engine computes it. */
export function affine(x: ArrayLike<number>, a = 2, b = 1): Float32Array {
  return Float32Array.from(x, (value) => f32(f32(f32(value) * f32(a)) + f32(b)));
}

/** `count` deterministic floats starting at `start` (step 0.25: exact in float32). */
export function sequence(count: number, start = 0): Float32Array {
  return Float32Array.from({ length: count }, (_, index) => start + 0.25 * index);
}

/** y = x * a + b for x float [batch, 4]; `metadata` carries the fake's "fake-tensorrt:*" knobs. */
export function affineModel(
  options: { a?: number; b?: number; metadata?: Record<string, string>; extraNode?: string } = {},
): Uint8Array {
  const { a = 2, b = 1, metadata = {}, extraNode } = options;
  return encodeModel({
    name: 'affine',
    inputs: [{ name: 'x', elemType: ElementType.FLOAT, dims: ['batch', 4] }],
    outputs: [{ name: extraNode ? 'boxes' : 'y', elemType: ElementType.FLOAT, dims: ['batch', 4] }],
    initializers: [
      { name: 'a', elemType: ElementType.FLOAT, dims: [], values: [a] },
      { name: 'b', elemType: ElementType.FLOAT, dims: [], values: [b] },
    ],
    nodes: [
      { opType: 'Mul', inputs: ['x', 'a'], outputs: ['xa'] },
      { opType: 'Add', inputs: ['xa', 'b'], outputs: ['y'] },
      ...(extraNode ? [{ opType: extraNode, inputs: ['y'], outputs: ['boxes'] }] : []),
    ],
    metadata,
  });
}

/** indices = NonZero(x) int64 [2, nnz] (data-dependent) and y = Relu(x), x float [2, 4]. */
export function nonZeroModel(): Uint8Array {
  return encodeModel({
    name: 'nonzero',
    inputs: [{ name: 'x', elemType: ElementType.FLOAT, dims: [2, 4] }],
    outputs: [
      { name: 'y', elemType: ElementType.FLOAT, dims: [2, 4] },
      { name: 'indices', elemType: ElementType.INT64, dims: [2, 'nnz'] },
    ],
    nodes: [
      { opType: 'Relu', inputs: ['x'], outputs: ['y'] },
      { opType: 'NonZero', inputs: ['x'], outputs: ['indices'] },
    ],
  });
}

/** y = Reshape(x, shape) where `shape` int64 [2] is a shape-tensor input (on the host). */
export function reshapeModel(): Uint8Array {
  return encodeModel({
    name: 'reshape',
    inputs: [
      { name: 'x', elemType: ElementType.FLOAT, dims: ['n'] },
      { name: 'shape', elemType: ElementType.INT64, dims: [2] },
    ],
    outputs: [{ name: 'y', elemType: ElementType.FLOAT, dims: ['rows', 'cols'] }],
    nodes: [{ opType: 'Reshape', inputs: ['x', 'shape'], outputs: ['y'] }],
  });
}

/** y = float(x) * 2 + 1 for x float16 [batch, 4] (Cast without "to": the fake casts to float). */
export function float16Model(): Uint8Array {
  return encodeModel({
    name: 'fp16',
    inputs: [{ name: 'x', elemType: ElementType.FLOAT16, dims: ['batch', 4] }],
    outputs: [{ name: 'y', elemType: ElementType.FLOAT, dims: ['batch', 4] }],
    initializers: [
      { name: 'a', elemType: ElementType.FLOAT, dims: [], values: [2] },
      { name: 'b', elemType: ElementType.FLOAT, dims: [], values: [1] },
    ],
    nodes: [
      { opType: 'Cast', inputs: ['x'], outputs: ['xf'] },
      { opType: 'Mul', inputs: ['xf', 'a'], outputs: ['xa'] },
      { opType: 'Add', inputs: ['xa', 'b'], outputs: ['y'] },
    ],
  });
}

/** Profiles over the batch dimension of x [batch, 4]: one per [min, max] pair, opt = max. */
export function batchProfiles(...ranges: [number, number][]): { x: { min: number[]; opt: number[]; max: number[] } }[] {
  return ranges.map(([min, max]) => ({ x: { min: [min, 4], opt: [max, 4], max: [max, 4] } }));
}
