// What the GPU tier runs on, checked against the machine itself. The suites in this folder skip
// themselves without a GPU (gpu.mjs, tensorrt.mjs); a skip on a machine whose GPU is there but
// unusable would hide a broken setup, so these tests hold the skip decisions, capabilities() and
// nvidia-smi to one another, and check that what capabilities() reports about the GPUs is sane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { capabilities, cuda } from '../../dist/index.js';
import { skip as gpuSkip } from './gpu.mjs';
import { tensorrtSkip } from './tensorrt.mjs';

const caps = await capabilities();

/** The GPUs nvidia-smi lists ([] with no GPU), or null without a working nvidia-smi. */
function nvidiaSmiGpus() {
  const query = spawnSync('nvidia-smi', ['--query-gpu=pci.bus_id,name,mig.mode.current', '--format=csv,noheader'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (query.error || query.status !== 0) return null;
  return query.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [busId, name, mig] = line.split(',').map((field) => field.trim());
      return { busId: normalizeBusId(busId), name, mig: mig === 'Enabled' };
    });
}

/** nvidia-smi writes "00000000:17:00.0", CUDA "0000:17:00.0". */
function normalizeBusId(busId) {
  const [domain, ...rest] = busId.toLowerCase().split(':');
  return [Number.parseInt(domain, 16).toString(16), ...rest].join(':');
}

const smiGpus = nvidiaSmiGpus();

test('capabilities() describes this package and machine', (t) => {
  assert.equal(caps.package.name, 'tensorrt-node');
  assert.equal(caps.host.platform, process.platform);
  assert.equal(caps.host.arch, process.arch);
  t.diagnostic(
    `cuda usable: ${caps.cuda.usable} (runtime ${caps.cuda.runtimeVersion}, driver ${caps.cuda.driverVersion}); devices: ${caps.devices.map((device) => `${device.name} sm_${device.computeCapability}`).join(', ') || 'none'}; tensorrt usable: ${caps.tensorrt.usable} (${caps.tensorrt.version ?? 'no libnvinfer'})`,
  );
  t.diagnostic(
    `nvidia-smi: ${smiGpus === null ? 'not available' : smiGpus.map((gpu) => `${gpu.name} ${gpu.busId}${gpu.mig ? ' (MIG)' : ''}`).join(', ') || 'no GPU'}`,
  );
  t.diagnostic(
    `GPU suites: ${gpuSkip ? `skipped: ${gpuSkip}` : 'run'}; TensorRT suites: ${tensorrtSkip ? `skipped: ${tensorrtSkip}` : 'run'}`,
  );
});

test('the GPU suites run exactly when capabilities() finds a usable CUDA device, and a skip is explained', () => {
  assert.equal(
    gpuSkip === false,
    caps.cuda.usable && caps.devices.length > 0,
    `GPU suites skip: ${gpuSkip}; capabilities: ${JSON.stringify(caps.cuda)}`,
  );
  if (gpuSkip)
    assert.ok(
      caps.problems.some((problem) => problem.area === 'addon' || problem.area === 'cuda'),
      `a skip ("${gpuSkip}") that doctor would not explain: ${JSON.stringify(caps.problems)}`,
    );
});

test('the TensorRT suites run exactly when capabilities() finds TensorRT usable', () => {
  assert.equal(
    tensorrtSkip === false,
    caps.tensorrt.usable,
    `TensorRT suites skip: ${tensorrtSkip}; capabilities: ${JSON.stringify({ ...caps.tensorrt, searched: caps.tensorrt.searched.length })}`,
  );
});

test(
  'a GPU that nvidia-smi lists is usable, unless the addon was built without CUDA (then the skip says so)',
  { skip: smiGpus === null || smiGpus.length === 0 ? 'nvidia-smi lists no GPU here' : false },
  () => {
    if (!caps.addon.build?.cuda.compiled) {
      assert.match(String(gpuSkip), /not loaded|built without CUDA/);
      return;
    }
    assert.equal(
      gpuSkip,
      false,
      `nvidia-smi lists ${smiGpus.map((gpu) => gpu.name).join(', ')}, but the GPU suites would skip: ${gpuSkip}; problems: ${JSON.stringify(caps.problems)}`,
    );
    const byBusId = new Map(smiGpus.map((gpu) => [gpu.busId, gpu]));
    for (const device of caps.devices) {
      const listed = byBusId.get(normalizeBusId(device.pciBusId));
      assert.ok(listed, `CUDA device ${device.index} (${device.name}, ${device.pciBusId}) is not among nvidia-smi's GPUs`);
      assert.equal(device.name, listed.name);
    }
    // CUDA_VISIBLE_DEVICES and MIG (one instance per process) hide GPUs from CUDA, never add any.
    if (!process.env.CUDA_VISIBLE_DEVICES && !smiGpus.some((gpu) => gpu.mig)) assert.equal(caps.devices.length, smiGpus.length);
  },
);

test('the CUDA devices reported are consistent', { skip: gpuSkip }, () => {
  assert.equal(caps.cuda.deviceCount, caps.devices.length);
  assert.equal(cuda.deviceCount(), caps.devices.length);
  assert.deepEqual(
    caps.devices.map((device) => device.index),
    caps.devices.map((_, index) => index),
  );
  assert.equal(new Set(caps.devices.map((device) => device.uuid)).size, caps.devices.length, 'device UUIDs are unique');
  for (const device of caps.devices) {
    assert.ok(device.name.length > 0);
    assert.match(device.uuid, /^GPU-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(device.computeCapability, /^\d+\.\d+$/);
    assert.ok(device.totalMemoryBytes > 2 ** 28, `${device.name}: ${device.totalMemoryBytes} bytes of memory`);
    assert.ok(device.multiProcessorCount > 0);
  }
  // A usable runtime means the driver runs its CUDA major (minor versions are compatible within one).
  assert.ok(
    Number(caps.cuda.driverVersion.split('.')[0]) >= Number(caps.cuda.runtimeVersion.split('.')[0]),
    `driver CUDA ${caps.cuda.driverVersion}, runtime ${caps.cuda.runtimeVersion}`,
  );
});

test(
  'the TensorRT library reported is the one the addon was compiled for',
  { skip: caps.tensorrt.usable ? false : 'TensorRT is not usable here' },
  () => {
    assert.ok(existsSync(caps.tensorrt.path), caps.tensorrt.path);
    assert.equal(caps.tensorrt.majorMatches, true);
    assert.equal(caps.tensorrt.version.split('.')[0], caps.tensorrt.headersVersion.split('.')[0]);
    assert.equal(caps.backends.tensorrt.available, true);
  },
);
