/**
 * The native surface: the one typed description of everything the addon exports (node-llama-cpp's
 * AddonTypes habit), and the plain data it hands back (engine metadata, run phase times, build
 * progress). Only lib/ sees the Native* types; public classes wrap them and never leak them. Loading
 * the binary is ./loader.ts's job.
 */

/** What an engine says about itself (EngineWrap.metadata()), as plain data. */
export interface EngineTensorInfo {
  name: string;
  mode: 'input' | 'output';
  /** A tensorrt-node dtype name; engines can also carry types JS cannot hold (int4, fp4, e8m0). */
  dtype: string;
  /** -1 marks a dynamic dimension. */
  shape: number[];
  /** TensorRT's description of the memory layout, e.g. "Row major linear FP32 format (kLINEAR)". */
  format: string;
  /** Shape tensors live on the host; everything else on the device. */
  location: 'device' | 'host';
  isShapeTensor: boolean;
}

/** The shapes one optimization profile accepts for one input: every dim between `min` and `max`, tuned for `opt`. */
export interface ProfileBounds {
  min: readonly number[];
  opt: readonly number[];
  max: readonly number[];
  /**
   * For a shape-tensor input (its values decide other shapes, e.g. Reshape's target shape): the
   * bounds of its values, which TensorRT needs in every profile.
   */
  values?: { readonly min: readonly number[]; readonly opt: readonly number[]; readonly max: readonly number[] };
}

/** One optimization profile of an engine. */
export interface EngineProfile {
  index: number;
  /** Bounds of every dynamic-shape input for this optimization profile. */
  inputs: Record<string, ProfileBounds>;
}

/** What an engine says about itself: its I/O tensors, optimization profiles and memory needs. */
export interface EngineMetadata {
  name: string;
  layerCount: number;
  /** Device memory an execution context needs (getDeviceMemorySizeV2). */
  deviceMemoryBytes: number;
  auxStreamCount: number;
  hardwareCompatibility: string;
  tensors: EngineTensorInfo[];
  profiles: EngineProfile[];
}

/**
 * Host times of a run's phases in ms on the `performance.now()` clock (the bench seam's PhaseTimings, trtexec's names).
 * @inline
 */
export interface PhaseTimings {
  enqueueStartMs: number;
  enqueueEndMs: number;
  h2dStartMs: number;
  h2dEndMs: number;
  computeStartMs: number;
  computeEndMs: number;
  d2hStartMs: number;
  d2hEndMs: number;
}

/** One step of TensorRT's build progress (IProgressMonitor), as the builder reports it. */
export interface BuildProgressEvent {
  kind: 'phase-start' | 'step' | 'phase-finish';
  phase: string;
  parentPhase: string;
  step: number;
  steps: number;
}

/** What the binary was compiled with, and what was left out and why. */
export interface BuildInfo {
  packageVersion: string;
  napiVersion: number;
  compiler: string;
  buildType: string;
  sanitizers: boolean;
  /** `emulated`: a test build on the emulated CUDA device (native/emulated/), which runs no GPU work. */
  cuda: {
    compiled: boolean;
    toolkitVersion: string | null;
    architectures: string | null;
    missingReason: string | null;
    emulated?: boolean;
  };
  /** `emulated`: built against the fake TensorRT of the emulated tier (tests only), never a real TensorRT. */
  tensorrt: {
    compiled: boolean;
    headersVersion: string | null;
    headersMajor: number | null;
    missingReason: string | null;
    emulated?: boolean;
  };
}

/**
 * One CUDA device as the runtime reports it.
 * @inline
 */
export interface NativeDeviceSummary {
  index: number;
  name: string;
  uuid: string;
  computeCapability: string;
  totalMemoryBytes: number;
  multiProcessorCount: number;
  pciBusId: string;
}

export interface CudaProbeResult {
  runtimeVersion: number;
  driverVersion: number;
  deviceCount: number;
  error: { code: number; name: string; message: string } | null;
  devices: NativeDeviceSummary[];
}

/**
 * One place the TensorRT library was looked for, and what became of it.
 * @inline
 */
export interface LibraryAttempt {
  path: string;
  source: string;
  status: 'missing' | 'open-failed' | 'wrong-major' | 'missing-symbol' | 'loaded';
  outcome: string;
}

export interface TensorRTProbeResult {
  attempts: LibraryAttempt[];
  dynamicLinkerFolders: string[];
  expectedMajor: number | null;
  loaded: { path: string; source: string; version: string; major: number } | null;
}

export interface TensorRTProbeOptions {
  libraryPath?: string;
  extraDirs?: string[];
  library?: string;
}

/** One input of a run, in engine order: the tensor's index among the engine's I/O tensors, its shape, and its memory. */
export interface NativeRunInput {
  tensor: number;
  shape: readonly number[];
  /** A TypedArray (copied into pinned staging on the submit thread), pinned memory (no staging copy) or device memory (bound as is). */
  memory: ArrayBufferView | NativePinnedBuffer | NativeDeviceBuffer;
}

/** An output the caller bound to memory of their own; other outputs come back as fresh buffers. */
export interface NativeRunOutput {
  tensor: number;
  memory: ArrayBufferView | NativePinnedBuffer | NativeDeviceBuffer;
}

export interface NativeRunResult {
  /** Every output in engine order; `buffer` holds the bytes of outputs that were not bound. */
  outputs: { tensor: number; shape: number[]; buffer?: ArrayBuffer }[];
  graph: 'plain' | 'captured' | 'replayed';
  timing?: PhaseTimings;
}

/**
 * One layer as trtexec --dumpProfile shows it.
 * @inline
 */
export interface NativeLayerTime {
  name: string;
  totalMs: number;
  averageMs: number;
  medianMs: number;
  /** Share of the sum over all layers, in percent. */
  percentage: number;
  calls: number;
}

export interface NativeGraphStatus {
  mode: 'auto' | 'required' | 'off';
  active: boolean;
  disabledReason: string | null;
  cachedGraphs: number;
  captures: number;
  replays: number;
  plainRuns: number;
}

/** The native side of ExecutionContext: its own stream, submit and completion threads. */
export interface NativeContextWrap {
  readonly device: number;
  readonly profile: number;
  /** Tags TensorRT messages logged while this context works (see setTensorRTLogSink). */
  readonly logTarget: number;
  readonly inFlight: number;
  readonly disposed: boolean;
  run(inputs: NativeRunInput[], outputs: NativeRunOutput[], timing: boolean, cancellable: false): Promise<NativeRunResult>;
  run(
    inputs: NativeRunInput[],
    outputs: NativeRunOutput[],
    timing: boolean,
    cancellable: true,
  ): { promise: Promise<NativeRunResult>; cancel(): void };
  profileLayers(inputs: NativeRunInput[], iterations: number): Promise<NativeLayerTime[]>;
  cudaGraphStatus(): NativeGraphStatus;
  /** Queued runs reject with ERR_DISPOSED, started ones finish; resolves once the stream is empty. Idempotent. */
  dispose(): Promise<void>;
}

export type NativeLogSeverity = 'internal-error' | 'error' | 'warning' | 'info' | 'verbose';

/** The native side of Engine: created by loadEngine(). */
export interface NativeEngineWrap {
  metadata(): EngineMetadata;
  layerInformation(): string;
  dispose(): void;
  readonly disposed: boolean;
}

export interface NativeEngineLoadOptions {
  device?: number;
  allowHostCode?: boolean;
  libraryPath?: string;
  extraDirs?: string[];
  /** Load TensorRT's standard plugin library (default true). */
  plugins?: boolean;
}

/** Options of the native builder; lib/build validates them first. */
export interface NativeBuildOptions {
  device?: number;
  profiles?: {
    input: string;
    min: number[];
    opt: number[];
    max: number[];
    values?: { min: number[]; opt: number[]; max: number[] };
  }[][];
  workspaceBytes?: number;
  optimizationLevel?: number;
  timingCache?: Uint8Array;
  hardwareCompatibility?: 'none' | 'ampere+' | 'same-compute-capability';
  versionCompatible?: boolean;
  excludeLeanRuntime?: boolean;
  maxAuxStreams?: number;
  libraryPath?: string;
  extraDirs?: string[];
  /** Load TensorRT's standard plugin library (default true). */
  plugins?: boolean;
}

export interface NativeBuildResult {
  plan: Buffer;
  timingCache: Buffer;
  warnings: string[];
}

export interface NativeBuildJob {
  promise: Promise<NativeBuildResult>;
  /** Asks TensorRT to stop at its next progress step; the promise then rejects with ERR_ABORTED. */
  cancel(): void;
}

type ErrorFactory = (code: string, message: string, kind: 'generic' | 'type' | 'range', extras: object) => Error;

/**
 * cudaDevice(index): what CUDA reports about one device (clocks via cudaDeviceGetAttribute).
 * @inline
 */
export interface NativeCudaDevice {
  index: number;
  name: string;
  uuid: string;
  pciBusId: string;
  computeCapability: string;
  multiProcessorCount: number;
  totalMemoryBytes: number;
  clockRateKHz: number;
  memoryClockRateKHz: number;
  memoryBusWidthBits: number;
  /** 2 x memory clock x bus width in bytes: the peak DRAM bandwidth. */
  theoreticalBandwidthBytesPerSecond: number;
  l2CacheBytes: number;
  asyncEngineCount: number;
  integrated: boolean;
  canMapHostMemory: boolean;
  unifiedAddressing: boolean;
  memoryPoolsSupported: boolean;
}

/** Page-locked host memory (cudaHostAlloc); `arrayBuffer()` is that memory itself unless `zeroCopy` is false. */
export interface NativePinnedBuffer {
  readonly byteLength: number;
  /** False where the runtime refuses external ArrayBuffers: JS then works on a mirror copied in and out around each job. */
  readonly zeroCopy: boolean;
  readonly disposed: boolean;
  arrayBuffer(): ArrayBuffer;
  address(): bigint;
  /** Detaches the ArrayBuffer, then frees the memory once no in-flight job uses it. Idempotent. */
  dispose(): void;
}

/** Device memory; never enters JS memory. */
export interface NativeDeviceBuffer {
  readonly byteLength: number;
  readonly device: number;
  readonly disposed: boolean;
  address(): bigint;
  dispose(): void;
}

export interface NativeEvent {
  readonly device: number;
  readonly disposed: boolean;
  query(): boolean;
  elapsedTime(end: NativeEvent): number;
  dispose(): void;
}

/** Pinned, device, or pageable JS memory (a TypedArray). */
export type NativeMemory = NativePinnedBuffer | NativeDeviceBuffer | ArrayBufferView;
export type NativeGpuMemory = NativePinnedBuffer | NativeDeviceBuffer;

/**
 * The kernel's view of an image preprocessing job: sizes, channel order and one multiply-add per channel.
 * @inline
 */
export interface NativeImagePreprocessParams {
  batch: number;
  height: number;
  width: number;
  srcChannels: 3 | 4;
  /** Output plane c reads source channel channelMap[c]. */
  channelMap: [number, number, number];
  /** out = fmaf(in, alpha[c], beta[c]) */
  alpha: [number, number, number];
  beta: [number, number, number];
  outputType: 'float32' | 'float16';
}

/** A CUDA stream with its own submit and completion threads; every GPU method settles a promise off the event loop. */
export interface NativeStream {
  readonly device: number;
  readonly priority: number;
  /** Jobs submitted whose completion has not been delivered yet. */
  readonly inFlight: number;
  readonly disposed: boolean;
  /** Resolves once everything submitted before has completed; rejects with the first error of promise-less jobs. */
  synchronize(): Promise<void>;
  copy(dst: NativeMemory, dstOffset: number, src: NativeMemory, srcOffset: number, byteLength: number): Promise<void>;
  memset(dst: NativeGpuMemory, offset: number, value: number, byteLength: number): Promise<void>;
  recordEvent(event: NativeEvent): void;
  waitEvent(event: NativeEvent): void;
  preprocessImage(dst: NativeGpuMemory, src: NativeGpuMemory, params: NativeImagePreprocessParams): Promise<void>;
  convertFloat(
    dst: NativeGpuMemory,
    src: NativeGpuMemory,
    count: number,
    direction: 'float32-to-float16' | 'float16-to-float32',
  ): Promise<void>;
  /** Benchmark reference: seconds taken by `iterations` plain synchronous cudaMemcpy calls, run on this stream's submit thread. */
  benchmarkMemcpy(dst: NativeMemory, src: NativeMemory, byteLength: number, iterations: number): Promise<number>;
  /** Stops intake; accepted work still completes (off the JS thread). Idempotent. */
  dispose(): void;
}

/**
 * Pinned and device buffers alive in this process, and their bytes.
 * @inline
 */
export interface NativeAllocationStats {
  pinnedBuffers: number;
  pinnedBytes: number;
  deviceBuffers: number;
  deviceBytes: number;
}

/** Test hook: the real submit queue and completion delivery with a host-side fence (no GPU). */
export interface NativeCompletionQueueForTest {
  readonly inFlight: number;
  readonly pendingPromises: number;
  submit(
    delayMs: number,
    failAt?: 'enqueue' | 'done',
    message?: string,
  ): Promise<{ order: number; submitThread: string; completionThread: string }>;
  close(): void;
}

/** Everything the addon exports. Optional members exist only in builds that compiled them. */
export interface NativeAddon {
  addonVersion: string;
  buildInfo(): BuildInfo;
  setErrorFactory(factory: ErrorFactory): void;
  tensorrtProbe(options?: TensorRTProbeOptions): Promise<TensorRTProbeResult>;
  /** Test hook: throws a NativeError from C++ through the real error bridge. */
  throwForTest(code: string, message: string, cudaErrorCode?: number, cudaErrorName?: string): never;
  CompletionQueueForTest: new () => NativeCompletionQueueForTest;
  /** Present when the addon was built with CUDA. */
  cudaProbe?(): CudaProbeResult;
  /** Present when the addon was built with TensorRT headers. Deserializes on a thread of its own. */
  loadEngine?(planOrPath: Uint8Array | string, options?: NativeEngineLoadOptions): Promise<NativeEngineWrap>;
  /** Present when the addon was built with TensorRT headers. Creates the context on its own new stream. */
  createExecutionContext?(
    engine: NativeEngineWrap,
    options: { profile: number; cudaGraph: 'auto' | 'on' | 'off' },
  ): Promise<NativeContextWrap>;
  /** Present when the addon was built with TensorRT headers: TensorRT's log messages for this environment, or null to stop. */
  setTensorRTLogSink?(
    sink: ((severity: NativeLogSeverity, message: string, target: number, droppedBefore: number) => void) | null,
    severity?: NativeLogSeverity,
  ): void;
  setTensorRTLogSeverity?(severity: NativeLogSeverity): void;
  /** Test hook: logs through the real TensorRT logger from another thread, tagged with `target`. */
  tensorrtLogForTest?(severity: NativeLogSeverity, message: string, target: number): void;
  /** Present when the addon was built with TensorRT headers. Builds on a thread of its own. */
  buildEngine?(onnxPath: string, options?: NativeBuildOptions, onProgress?: (event: BuildProgressEvent) => void): NativeBuildJob;
  // The CUDA layer (lib/cuda.ts, lib/tensor.ts); present only in builds with CUDA.
  cudaDeviceCount?(): number;
  cudaDevice?(index: number): NativeCudaDevice;
  cudaMemoryInfo?(index: number): { freeBytes: number; totalBytes: number };
  cudaStreamPriorityRange?(index: number): { least: number; greatest: number };
  /** What CUDA says the memory behind a view is ("pinned" proves a zero-copy `.data`). */
  cudaPointerKind?(memory: ArrayBuffer | ArrayBufferView): 'pageable' | 'pinned' | 'device' | 'managed';
  cudaAddressOf?(memory: ArrayBuffer | ArrayBufferView): bigint;
  cudaAllocationStats?(): NativeAllocationStats;
  StreamWrap?: new (device: number, priority: number) => NativeStream;
  EventWrap?: new (device: number, timing: boolean) => NativeEvent;
  PinnedBufferWrap?: new (byteLength: number, forceCopying?: boolean) => NativePinnedBuffer;
  DeviceBufferWrap?: new (byteLength: number, device: number, stream?: NativeStream) => NativeDeviceBuffer;
}
