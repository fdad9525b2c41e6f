// How the engine plan and the timing cache reach JavaScript, on the EMULATED device with the FAKE
// TensorRT: as external buffers where the runtime allows them, as copies where it refuses them
// (napi_no_external_buffers_allowed, as under Electron's V8 sandbox). The emulated build refuses them
// while TRT_NODE_EMULATED_REFUSE_EXTERNAL_BUFFERS=1 (read on the JavaScript thread when the build's
// result is handed over); no other build has that switch.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEngine, Engine } from '../../lib/index.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  sequence,
  useFakeTensorRTLog,
} from '../helpers/fake-tensorrt-engines.js';

const log = useFakeTensorRTLog();
const refuseSwitch = 'TRT_NODE_EMULATED_REFUSE_EXTERNAL_BUFFERS';
const folder = mkdtempSync(join(tmpdir(), 'fake-trt-buffers-'));

async function build(name: string): Promise<{ plan: Uint8Array; timingCache: Buffer }> {
  const timingCache = join(folder, `${name}.timing-cache`);
  const built = await buildEngine(affineModel(), {
    libraryPath: fakeTensorRTDir,
    cacheDir: false,
    timingCache,
    profiles: batchProfiles([1, 8]),
  });
  return { plan: built.plan, timingCache: readFileSync(timingCache) };
}

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: plan and timing cache buffers', () => {
  afterEach(() => {
    delete process.env[refuseSwitch];
  });

  // Issue 14, defect 8: the plan and the timing cache were handed over as external buffers only.
  it('where the runtime refuses external buffers, the plan and the timing cache arrive as copies with the same bytes, and the plan runs', async () => {
    const external = await build('external');
    process.env[refuseSwitch] = '1';
    const copied = await build('copied');
    delete process.env[refuseSwitch];

    expect(copied.plan.byteLength).toBeGreaterThan(0);
    expect(Buffer.from(copied.plan).equals(Buffer.from(external.plan))).toBe(true);
    expect(copied.timingCache.byteLength).toBeGreaterThan(0);
    expect(copied.timingCache.equals(external.timingCache)).toBe(true);

    const engine = await Engine.load(copied.plan, { libraryPath: fakeTensorRTDir });
    const context = await engine.createContext();
    const x = sequence(8, 3);
    expect((await context.run({ x: { data: x, shape: [2, 4] } })).outputs.y!.data).toEqual(affine(x));
    await context.dispose();
    engine.dispose();
    expect(log.violations()).toEqual([]);
  });
});
