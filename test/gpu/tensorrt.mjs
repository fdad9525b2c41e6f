// Shared by the TensorRT suites of the GPU tier and by scripts/gpu-check.mjs: whether TensorRT can
// run here (a GPU, an addon built with TensorRT headers, and libnvinfer of that major), and real
// engines built at test time from the tiny ONNX models of test/helpers/tiny-onnx.mjs with the
// native builder. Nothing here imports more than node: builtins, dist/ and that plain-JS helper.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Engine } from '../../dist/index.js';
import { pythonTensorRTDirsOnce } from '../../dist/addon/system/python-tensorrt-dirs.js';
import { affineModel, nonZeroModel } from '../helpers/tiny-onnx.mjs';
import { addon, skip as gpuSkip } from './gpu.mjs';

async function detect() {
  if (gpuSkip) return { skip: gpuSkip, version: null };
  const build = addon.buildInfo();
  if (!addon.loadEngine || !addon.buildEngine)
    return { skip: `the addon was built without TensorRT headers: ${build.tensorrt.missingReason}`, version: null };
  const extraDirs = await pythonTensorRTDirsOnce();
  const probe = await addon.tensorrtProbe({ extraDirs });
  if (!probe.loaded) {
    return {
      skip: `libnvinfer for TensorRT ${probe.expectedMajor}.x was not found (${probe.attempts.length} places tried; set TENSORRT_LIB_DIR)`,
      version: null,
    };
  }
  return { skip: false, version: probe.loaded.version, extraDirs };
}

const detected = await detect();
/** False when TensorRT engines can be built and run here, else why not. */
export const tensorrtSkip = detected.skip;
/** The TensorRT version loaded, when there is one. */
export const tensorrtVersion = detected.version;

const plans = new Map();

/** Builds (once per process) the plan of `model` with the given optimization profiles. */
async function planFor(name, bytes, profiles) {
  if (!plans.has(name)) {
    plans.set(
      name,
      (async () => {
        const folder = mkdtempSync(join(tmpdir(), 'tensorrt-node-gpu-'));
        try {
          const onnx = join(folder, `${name}.onnx`);
          writeFileSync(onnx, bytes);
          const { plan } = await addon.buildEngine(onnx, { profiles, extraDirs: detected.extraDirs }).promise;
          return plan;
        } finally {
          rmSync(folder, { recursive: true, force: true });
        }
      })(),
    );
  }
  return plans.get(name);
}

export const affine = affineModel();
/** Optimization profile of the affine engine: batch 1..8, optimized for 4. */
export const affineProfile = { min: [1, 4], opt: [4, 4], max: [8, 4] };

/** The affine model's serialized engine (built once per process). */
export function affinePlan() {
  return planFor('affine', affine.bytes, [[{ input: 'x', ...affineProfile }]]);
}

/** A fresh Engine over the affine model's plan: y = relu(x·W + b) [batch, 3], z = x² [batch, 4]. */
export async function loadAffineEngine() {
  return Engine.load(await affinePlan());
}

export const nonZero = nonZeroModel();

/** A fresh Engine over the NonZero model's plan: y = relu(x) [2, 4], indices = NonZero(x) [2, nnz]. */
export async function loadNonZeroEngine() {
  const plan = await planFor('nonzero', nonZero.bytes, []);
  return Engine.load(plan);
}
