// TensorRT's log messages in JavaScript, on the EMULATED device with the FAKE TensorRT: what the fake
// logs (from the calling thread and from threads of its own) travels through the addon's
// non-blocking bridge (native/napi/trt_logger.cc) to the process-wide logger or to the logger of the
// execution context it was logged for, filtered by severity. Emulation proves the plumbing, not
// what a real TensorRT says.
import { afterEach, describe, expect, it } from 'vitest';
import { buildEngine, Engine, setTensorRTLogger, type TensorRTLogMessage } from '../../lib/index.js';
import {
  affine,
  affineModel,
  batchProfiles,
  emulatedSkipReason,
  fakeTensorRTDir,
  sequence,
} from '../helpers/fake-tensorrt-engines.js';
import { slowdown } from '../helpers/machine.js';

async function fakePlan(model: Uint8Array): Promise<Uint8Array> {
  const built = await buildEngine(model, {
    libraryPath: fakeTensorRTDir,
    cacheDir: false,
    timingCache: false,
    profiles: batchProfiles([1, 8]),
  });
  return built.plan;
}

const texts = (messages: TensorRTLogMessage[]): string[] => messages.map((message) => message.message);
const poll = { timeout: 5000 * slowdown };

describe.skipIf(emulatedSkipReason !== null)('fake TensorRT on the emulated device: log messages', () => {
  afterEach(() => setTensorRTLogger(null));

  it('the process-wide logger gets what TensorRT logs for no context, at the severity it asked for', async () => {
    const processWide: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => processWide.push(message), { severity: 'verbose' });
    const engine = await Engine.load(await fakePlan(affineModel()), { libraryPath: fakeTensorRTDir });
    engine.dispose();
    await expect.poll(() => texts(processWide), poll).toContain('fake TensorRT: runtime destroyed');
    expect(processWide).toContainEqual({ severity: 'verbose', message: 'fake TensorRT: engine destroyed', context: null });
  });

  it("a context's logger gets what is logged while that context works: captures refused until graphs go off", async () => {
    const processWide: TensorRTLogMessage[] = [];
    const perContext: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => processWide.push(message), { severity: 'verbose' });
    // The fake refuses every capture: after three failures in a row the context stops trying.
    const engine = await Engine.load(await fakePlan(affineModel({ metadata: { 'fake-tensorrt:fail-captures': '100' } })), {
      libraryPath: fakeTensorRTDir,
    });
    await using context = await engine.createContext({ logger: (message) => perContext.push(message) });
    engine.dispose();
    const uses: string[] = [];
    for (let run = 0; run < 6; run++) {
      const x = sequence(4, run);
      const result = await context.run({ x: { data: x, shape: [1, 4] } });
      expect(result.outputs.y!.data).toEqual(affine(x));
      uses.push(result.cudaGraph);
    }
    expect(uses).toEqual(['plain', 'plain', 'plain', 'plain', 'plain', 'plain']);
    expect(context.cudaGraphs.active).toBe(false);
    expect(context.cudaGraphs.disabledReason).toContain('fake-tensorrt:fail-captures');
    await expect
      .poll(() => perContext.find((message) => message.message.includes('CUDA graphs are off for this execution context')), poll)
      .toMatchObject({ severity: 'warning', context: context.logTarget });
    expect(perContext.every((message) => message.context === context.logTarget)).toBe(true);
    // What the context's logger claimed is not repeated to the process-wide one.
    expect(texts(processWide).filter((text) => text.includes('CUDA graphs are off'))).toEqual([]);
  });

  it('a capture refused once is retried, and graphs then replay', async () => {
    const engine = await Engine.load(await fakePlan(affineModel({ metadata: { 'fake-tensorrt:fail-captures': '1' } })), {
      libraryPath: fakeTensorRTDir,
    });
    await using context = await engine.createContext();
    engine.dispose();
    const uses: string[] = [];
    for (let run = 0; run < 5; run++) {
      const x = sequence(8, run * 3);
      const result = await context.run({ x: { data: x, shape: [2, 4] } });
      expect(result.outputs.y!.data).toEqual(affine(x));
      uses.push(result.cudaGraph);
    }
    expect(uses.slice(-2)).toEqual(['replayed', 'replayed']);
    expect(uses).toContain('captured');
    expect(context.cudaGraphs).toMatchObject({ active: true, captures: 1 });
  });

  it("at the default severity ('warning') an error logged from TensorRT's own thread arrives, verbose messages do not", async () => {
    const messages: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => messages.push(message));
    const engine = await Engine.load(await fakePlan(affineModel()), { libraryPath: fakeTensorRTDir });
    engine.dispose(); // the fake logs this engine's and runtime's release at 'verbose'
    const failing = affineModel({ metadata: { 'fake-tensorrt:fail-build': 'no tactic fits the workspace' } });
    await expect(
      buildEngine(failing, {
        libraryPath: fakeTensorRTDir,
        cacheDir: false,
        timingCache: false,
        profiles: batchProfiles([1, 8]),
      }),
    ).rejects.toMatchObject({ code: 'ERR_BUILD' });
    await expect
      .poll(() => messages.find((message) => message.message.includes('no tactic fits the workspace')), poll)
      .toMatchObject({ severity: 'error', context: null });
    expect(messages.filter((message) => message.severity === 'verbose' || message.severity === 'info')).toEqual([]);
  });

  it('a replaced logger gets nothing more; its successor gets what follows', async () => {
    const first: TensorRTLogMessage[] = [];
    const second: TensorRTLogMessage[] = [];
    setTensorRTLogger((message) => first.push(message), { severity: 'verbose' });
    const plan = await fakePlan(affineModel());
    const kept = await Engine.load(plan, { libraryPath: fakeTensorRTDir });
    const released = await Engine.load(plan, { libraryPath: fakeTensorRTDir });
    released.dispose();
    await expect.poll(() => texts(first), poll).toContain('fake TensorRT: runtime destroyed');
    const before = first.length;
    setTensorRTLogger(null);
    setTensorRTLogger((message) => second.push(message), { severity: 'verbose' });
    kept.dispose();
    await expect.poll(() => texts(second), poll).toContain('fake TensorRT: runtime destroyed');
    expect(first).toHaveLength(before);
  });
});
