// Engines that embed host code (a version-compatible engine carries TensorRT's lean runtime) are
// refused unless the caller passes allowHostCode: true (SECURITY.md). Skipped without a GPU and
// TensorRT.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEngine, capabilities, Engine } from '../../dist/index.js';
import { skip as noGpu } from './gpu.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const convnet = join(here, '..', 'fixtures', 'models', 'convnet.onnx');
const caps = noGpu ? null : await capabilities();
const skip = noGpu || (caps.tensorrt.usable ? false : `TensorRT is not usable: ${caps.backends.tensorrt.reason}`);
const cacheDir = mkdtempSync(join(tmpdir(), 'gpu-host-code-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

describe('engines with embedded host code', { skip }, () => {
  it('a version-compatible engine (lean runtime inside) is refused by default and loads with allowHostCode', async () => {
    const { plan } = await buildEngine(convnet, { versionCompatible: true, cacheDir });
    await assert.rejects(Engine.load(plan), (error) => {
      assert.equal(error.code, 'ERR_ENGINE_INCOMPATIBLE');
      assert.equal(error.details.kind, 'host-code');
      assert.match(error.message, /allowHostCode: true/);
      return true;
    });
    const engine = await Engine.load(plan, { allowHostCode: true });
    assert.equal(engine.inputs[0].name, 'x');
    engine.dispose();
  });

  it('the same engine built without its lean runtime needs no host code', async () => {
    const { plan } = await buildEngine(convnet, { versionCompatible: true, excludeLeanRuntime: true, cacheDir });
    const engine = await Engine.load(plan); // no allowHostCode: a refusal would reject here
    assert.equal(engine.inputs[0].name, 'x');
    engine.dispose();
  });
});
