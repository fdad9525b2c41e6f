// Issue 14 on a real GPU (the emulated tier proves the protocol; this proves the numbers): alternating
// input shapes through CUDA graphs on a model with normalization, against cudaGraph: false; dispose
// with runs in flight; worker termination mid-build; float16 and bfloat16 I/O; a multi-profile engine
// used at profile 1; a device other than 0 where there is one; a shape-tensor engine. Engines are
// built here from tiny ONNX models; results are checked against the same math on the CPU. Skipped,
// saying why, without a GPU or TensorRT.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import {
  buildEngine,
  cuda,
  Engine,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  bfloat16BitsToFloat32,
  float32ToBfloat16Bits,
} from '../../dist/index.js';
import { floatAttribute, intAttribute, makeNode, makeValueInfo } from '../../dist/onnx/graph.js';
import { DataType, GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema } from '../../dist/onnx/proto.js';
import { serializeModel } from '../../dist/onnx/model.js';
import { createTensor } from '../../dist/onnx/tensor-data.js';
import { randomFloats } from '../helpers/tiny-onnx.mjs';
import { tensorrtSkip } from './tensorrt.mjs';

const skip = tensorrtSkip;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function model(name, { inputs, outputs, initializers = [], nodes, opset = 17 }) {
  const graph = create(GraphProtoSchema, { name, input: inputs, output: outputs, initializer: initializers, node: nodes });
  const proto = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'tensorrt-node-gpu-tests',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
    graph,
  });
  return serializeModel({ proto, baseDir: null, source: `<${name}>` });
}

async function engineOf(bytes, profiles) {
  const built = await buildEngine(bytes, { profiles, cacheDir: false, timingCache: false });
  return Engine.load(built.plan);
}

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

// y = LayerNormalization(x) * scale + bias over the last axis, x [batch, 16]: normalization kernels are
// shape dependent, which is what a graph replayed at the wrong shapes gets wrong.
const FEATURES = 16;
const scale = Float32Array.from({ length: FEATURES }, (_, i) => 0.5 + i / 16);
const bias = Float32Array.from({ length: FEATURES }, (_, i) => (i % 3) - 1);
function normBytes() {
  return model('layernorm', {
    inputs: [makeValueInfo('x', DataType.FLOAT, ['batch', FEATURES])],
    outputs: [makeValueInfo('y', DataType.FLOAT, ['batch', FEATURES])],
    initializers: [createTensor('scale', 'float32', [FEATURES], scale), createTensor('bias', 'float32', [FEATURES], bias)],
    nodes: [
      makeNode('LayerNormalization', ['x', 'scale', 'bias'], ['y'], 'ln', [
        intAttribute('axis', -1),
        floatAttribute('epsilon', 1e-5),
      ]),
    ],
  });
}
function normReference(x, batch) {
  const y = new Float64Array(batch * FEATURES);
  for (let row = 0; row < batch; row++) {
    let mean = 0;
    for (let i = 0; i < FEATURES; i++) mean += x[row * FEATURES + i];
    mean /= FEATURES;
    let variance = 0;
    for (let i = 0; i < FEATURES; i++) variance += (x[row * FEATURES + i] - mean) ** 2;
    variance /= FEATURES;
    for (let i = 0; i < FEATURES; i++)
      y[row * FEATURES + i] = ((x[row * FEATURES + i] - mean) / Math.sqrt(variance + 1e-5)) * scale[i] + bias[i];
  }
  return y;
}

// y = x * 2 + 1 with I/O in `dtype` (float16 or bfloat16) and float32 math inside.
function castBytes(elemType) {
  return model(`cast-${elemType}`, {
    inputs: [makeValueInfo('x', elemType, ['batch', 8])],
    outputs: [makeValueInfo('y', elemType, ['batch', 8])],
    initializers: [createTensor('a', 'float32', [], Float32Array.of(2)), createTensor('b', 'float32', [], Float32Array.of(1))],
    nodes: [
      makeNode('Cast', ['x'], ['xf'], 'in', [intAttribute('to', DataType.FLOAT)]),
      makeNode('Mul', ['xf', 'a'], ['xa'], 'mul'),
      makeNode('Add', ['xa', 'b'], ['yf'], 'add'),
      makeNode('Cast', ['yf'], ['y'], 'out', [intAttribute('to', elemType)]),
    ],
  });
}

// y = x * 3 for x [batch, 4], two profiles (batch 1..4 and 8..32).
function scaleBytes() {
  return model('scale', {
    inputs: [makeValueInfo('x', DataType.FLOAT, ['batch', 4])],
    outputs: [makeValueInfo('y', DataType.FLOAT, ['batch', 4])],
    initializers: [createTensor('k', 'float32', [], Float32Array.of(3))],
    nodes: [makeNode('Mul', ['x', 'k'], ['y'], 'mul')],
  });
}

// y = Reshape(x, shape): `shape` (int64 [2]) is a shape-tensor input, on the host.
function reshapeBytes() {
  return model('reshape', {
    inputs: [makeValueInfo('x', DataType.FLOAT, ['n']), makeValueInfo('shape', DataType.INT64, [2])],
    outputs: [makeValueInfo('y', DataType.FLOAT, ['rows', 'cols'])],
    nodes: [makeNode('Reshape', ['x', 'shape'], ['y'], 'reshape')],
  });
}

describe('issue 14 on a real GPU', { skip }, () => {
  let folder;
  before(() => {
    folder = mkdtempSync(join(tmpdir(), 'tensorrt-node-gpu-issue14-'));
  });
  after(() => rmSync(folder, { recursive: true, force: true }));

  test('alternating shapes A/B/A/B with fresh data: CUDA graphs give the results of cudaGraph: false', async () => {
    const engine = await engineOf(normBytes(), { x: { min: [1, FEATURES], opt: [4, FEATURES], max: [8, FEATURES] } });
    const graphs = await engine.createContext({ cudaGraph: 'auto' });
    const plain = await engine.createContext({ cudaGraph: false });
    try {
      const batches = [2, 2, 5, 2, 5, 2, 5, 2, 5, 2, 5, 5, 2];
      for (const [run, batch] of batches.entries()) {
        const x = randomFloats(batch * FEATURES, 100 + run);
        const viaGraphs = await graphs.run({ x: { data: x, shape: [batch, FEATURES] } });
        const viaPlain = await plain.run({ x: { data: x, shape: [batch, FEATURES] } });
        assertClose(viaGraphs.outputs.y.data, viaPlain.outputs.y.data, `run ${run} (batch ${batch}) graphs vs plain`, {
          atol: 1e-6,
          rtol: 1e-5,
        });
        assertClose(viaGraphs.outputs.y.data, normReference(x, batch), `run ${run} (batch ${batch}) vs the CPU`, {
          atol: 1e-4,
          rtol: 2e-3,
        });
      }
      assert.ok(graphs.cudaGraphs.replays > 0, `graphs were replayed (${JSON.stringify(graphs.cudaGraphs)})`);
    } finally {
      await graphs.dispose();
      await plain.dispose();
      engine.dispose();
    }
  });

  test('dispose() with runs in flight: started runs complete with their results, the rest reject with ERR_DISPOSED', async () => {
    const engine = await engineOf(normBytes(), { x: { min: [1, FEATURES], opt: [8, FEATURES], max: [8, FEATURES] } });
    const context = await engine.createContext();
    engine.dispose();
    const inputs = Array.from({ length: 32 }, (_, index) => randomFloats(8 * FEATURES, 200 + index));
    const runs = inputs.map((x) =>
      context.run({ x: { data: x, shape: [8, FEATURES] } }).then(
        (result) => result.outputs.y.data,
        (error) => error,
      ),
    );
    await context.dispose();
    const settled = await Promise.all(runs);
    let completed = 0;
    for (const [index, outcome] of settled.entries()) {
      if (outcome instanceof Error) {
        assert.equal(outcome.code, 'ERR_DISPOSED', `run ${index}: ${outcome.message}`);
      } else {
        completed++;
        assertClose(outcome, normReference(inputs[index], 8), `run ${index}`, { atol: 1e-4, rtol: 2e-3 });
      }
    }
    assert.ok(completed > 0, 'at least the first run had started');
  });

  test('worker.terminate() mid-build leaves the process healthy (child process)', () => {
    const onnx = join(folder, 'norm.onnx');
    writeFileSync(onnx, normBytes());
    const source = `
      import { Worker } from 'node:worker_threads';
      const worker = new Worker(\`
        import('${join(root, 'dist', 'index.js')}').then(async ({ buildEngine }) => {
          const { parentPort } = await import('node:worker_threads');
          await buildEngine(${JSON.stringify(onnx)}, { cacheDir: false, timingCache: false, optimizationLevel: 5,
            profiles: { x: { min: [1, ${FEATURES}], opt: [64, ${FEATURES}], max: [256, ${FEATURES}] } },
            onProgress: (event) => parentPort.postMessage(event.kind) });
        });
      \`, { eval: true });
      await new Promise((resolve) => worker.once('message', resolve));
      await worker.terminate();
      console.log(JSON.stringify({ alive: true }));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', source], { encoding: 'utf8', timeout: 300_000 });
    assert.equal(run.signal, null, run.stderr);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout.trim().split('\n').at(-1)), { alive: true });
  });

  for (const [dtype, elemType, toBits, fromBits] of [
    ['float16', DataType.FLOAT16, float32ToFloat16Bits, float16BitsToFloat32],
    ['bfloat16', DataType.BFLOAT16, float32ToBfloat16Bits, bfloat16BitsToFloat32],
  ]) {
    test(`${dtype} inputs and outputs: the engine's results are the CPU's, rounded to ${dtype}`, async (t) => {
      const capability = Number(cuda.devices()[0]?.computeCapability ?? '0');
      if (dtype === 'bfloat16' && capability < 8)
        return t.skip(`bfloat16 needs compute capability 8.0 (this GPU: ${capability})`);
      const engine = await engineOf(castBytes(elemType), { x: { min: [1, 8], opt: [4, 8], max: [8, 8] } });
      const context = await engine.createContext();
      try {
        assert.equal(engine.inputs[0].dtype, dtype);
        const values = randomFloats(32, 7).map((value) => value * 100);
        const bits = Uint16Array.from(values, toBits);
        const { outputs } = await context.run({ x: { data: bits, shape: [4, 8], dtype } });
        assert.equal(outputs.y.dtype, dtype);
        const expected = Uint16Array.from(bits, (b) => toBits(Math.fround(Math.fround(fromBits(b) * 2) + 1)));
        assert.deepEqual(Array.from(outputs.y.data), Array.from(expected));
      } finally {
        await context.dispose();
        engine.dispose();
      }
    });
  }

  test('a multi-profile engine used at profile 1 (next to a context at profile 0)', async () => {
    const engine = await engineOf(scaleBytes(), [
      { x: { min: [1, 4], opt: [4, 4], max: [4, 4] } },
      { x: { min: [8, 4], opt: [16, 4], max: [32, 4] } },
    ]);
    const first = await engine.createContext({ profile: 0 });
    const second = await engine.createContext({ profile: 1 });
    try {
      for (const batch of [8, 32, 16]) {
        const x = randomFloats(batch * 4, batch);
        const [small, large] = await Promise.all([
          first.run({ x: { data: x.subarray(0, 16), shape: [4, 4] } }),
          second.run({ x: { data: x, shape: [batch, 4] } }),
        ]);
        assert.deepEqual(
          Array.from(large.outputs.y.data),
          Array.from(x, (value) => Math.fround(value * 3)),
        );
        assert.deepEqual(
          Array.from(small.outputs.y.data),
          Array.from(x.subarray(0, 16), (value) => Math.fround(value * 3)),
        );
      }
    } finally {
      await first.dispose();
      await second.dispose();
      engine.dispose();
    }
  });

  test('a device other than 0, where there is one', async (t) => {
    if (cuda.deviceCount() < 2) return t.skip(`one CUDA device only (${cuda.deviceCount()})`);
    const built = await buildEngine(scaleBytes(), {
      profiles: { x: { min: [1, 4], opt: [4, 4], max: [8, 4] } },
      cacheDir: false,
      timingCache: false,
      device: 1,
    });
    const engine = await Engine.load(built.plan, { device: 1 });
    const context = await engine.createContext();
    try {
      assert.equal(context.device, 1);
      const x = randomFloats(8, 3);
      const { outputs } = await context.run({ x: { data: x, shape: [2, 4] } });
      assert.deepEqual(
        Array.from(outputs.y.data),
        Array.from(x, (value) => Math.fround(value * 3)),
      );
    } finally {
      await context.dispose();
      engine.dispose();
    }
  });

  test('a shape-tensor engine: the values of the shape input, bounded in the profile, decide the output shape', async () => {
    const engine = await engineOf(reshapeBytes(), {
      x: { min: [1], opt: [12], max: [64] },
      shape: { min: [2], opt: [2], max: [2], values: { min: [1, 1], opt: [3, 4], max: [8, 8] } },
    });
    const context = await engine.createContext();
    try {
      assert.equal(engine.metadata.tensors.find((tensor) => tensor.name === 'shape').location, 'host');
      const x = randomFloats(12, 4);
      for (const [rows, cols] of [
        [3, 4],
        [2, 6],
        [4, 3],
      ]) {
        const { outputs } = await context.run({
          x: { data: x, shape: [12] },
          shape: { data: BigInt64Array.from([BigInt(rows), BigInt(cols)]), shape: [2] },
        });
        assert.deepEqual(outputs.y.shape, [rows, cols]);
        assert.deepEqual(Array.from(outputs.y.data), Array.from(x));
      }
    } finally {
      await context.dispose();
      engine.dispose();
    }
  });
});
