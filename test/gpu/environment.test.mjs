// Reports what the GPU tier will run on; the suites in this folder skip themselves without a GPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { capabilities } from '../../dist/index.js';

test('capabilities() answers on this machine', async (t) => {
  const caps = await capabilities();
  assert.equal(caps.package.name, 'tensorrt-node');
  t.diagnostic(`cuda usable: ${caps.cuda.usable}; devices: ${caps.devices.map((d) => d.name).join(', ') || 'none'}; tensorrt usable: ${caps.tensorrt.usable}`);
});
