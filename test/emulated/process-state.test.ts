// What lasts a whole process on a GPU, tested in fresh child processes on the emulated device
// (EMULATION, NOT A GPU): primary contexts per device, and sticky errors.
import { describe, expect, it } from 'vitest';
import { runInChild } from './emulated.js';

describe('emulated device: process-wide state', () => {
  // Issue 14, defect 6: restoring device 0 after work on device 1 created a context on device 0.
  it('emulated device: work on device 1 creates no context on device 0', () => {
    const child = runInChild(
      `import { createRequire } from 'node:module';
       const { cuda, copy, Tensor } = await import('./lib/index.ts');
       const hooks = createRequire(import.meta.url)(process.env.TENSORRT_NODE_ADDON).emulatedDevice;
       const stream = cuda.createStream({ device: 1 });
       const onDevice = await Tensor.fromArray(new Float32Array([1, 2, 3]), { location: 'device', device: 1, stream });
       const back = await onDevice.toArray({ stream });
       cuda.memoryInfo(1);
       const event = cuda.createEvent({ device: 1 });
       event.record(stream);
       await event.synchronize();
       onDevice.dispose(); stream.dispose(); event.dispose();
       console.log(JSON.stringify({ back: Array.from(back), contexts: [hooks.counter('contextsCreated', 0), hooks.counter('contextsCreated', 1)] }));`,
      { TRTNODE_EMULATED_DEVICE_COUNT: '2' },
    );
    expect(child.stderr).not.toMatch(/Error/);
    expect(child.result).toEqual({ back: [1, 2, 3], contexts: [0, 1] });
  });

  it('emulated device: a sticky error rejects with ERR_CUDA_STICKY and later work for that device fails fast', () => {
    const child = runInChild(
      `import { createRequire } from 'node:module';
       const { cuda, copy, Tensor, CudaError } = await import('./lib/index.ts');
       const hooks = createRequire(import.meta.url)(process.env.TENSORRT_NODE_ADDON).emulatedDevice;
       const describe = (error) => ({ code: error.code, cudaError: error.cudaError, isCudaError: error instanceof CudaError, message: error.message });
       const stream = cuda.createStream();
       const src = await Tensor.fromArray(new Float32Array(64).fill(1), { location: 'device', stream });
       const dst = Tensor.allocate('float32', [64], { location: 'pinned' });
       hooks.failOperation(0, 700, 1);
       const outcome = {};
       try { await copy(dst, src, { stream }); } catch (error) { outcome.first = describe(error); }
       const started = performance.now();
       try { await copy(dst, src, { stream }); } catch (error) { outcome.again = describe(error); }
       try { cuda.createStream(); } catch (error) { outcome.newStream = describe(error); }
       try { Tensor.allocate('float32', [4], { location: 'device', stream }); } catch (error) { outcome.allocate = describe(error); }
       outcome.failFastMs = performance.now() - started;
       outcome.violations = hooks.counter('memoryViolations');
       console.log(JSON.stringify(outcome));`,
    );
    const outcome = child.result as Record<
      string,
      { code: string; cudaError: { code: number; name: string }; isCudaError: boolean; message: string }
    > & { failFastMs: number };
    expect(outcome, child.stderr).not.toBeNull();
    expect(outcome.first).toMatchObject({
      code: 'ERR_CUDA_STICKY',
      cudaError: { code: 700, name: 'cudaErrorIllegalAddress' },
      isCudaError: true,
    });
    expect(outcome.first!.message).toMatch(/device 0 unusable until the process restarts/);
    for (const later of ['again', 'newStream', 'allocate']) {
      expect(outcome[later], later).toMatchObject({ code: 'ERR_CUDA_STICKY', cudaError: { code: 700 } });
      expect(outcome[later]!.message).toMatch(/Restart the process to use this GPU again/);
    }
    expect(outcome.failFastMs).toBeLessThan(1000);
    expect(child.stderr).toMatch(/emulated device \(no GPU\): cudaErrorIllegalAddress \(sticky/);
  });
});
