/** Messages between the cpu backend (main thread) and its worker thread. Types only. */
import type { AnyTypedArray, DType } from '../../core/dtypes.js';
import type { TensorInfo } from '../../core/tensors.js';

/** onnxruntime session settings the backend passes through. */
export interface CpuSessionSettings {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  executionMode?: 'sequential' | 'parallel';
  enableCpuMemArena?: boolean;
  spinWait?: boolean;
  niceness?: number;
}

export interface WireTensor {
  name: string;
  dtype: DType;
  shape: number[];
  /** On a SharedArrayBuffer the worker copies it; otherwise the buffer was transferred. */
  data: AnyTypedArray;
}

export type ModelSource = { kind: 'path'; path: string; label: string } | { kind: 'bytes'; bytes: Uint8Array; label: string };

export type WorkerRequest =
  | { type: 'load'; model: ModelSource; settings: CpuSessionSettings }
  /**
   * `into`: outputs to write in place (SharedArrayBuffer views, a binding's memory) instead of
   * returning them; the result then carries no outputs.
   */
  | { type: 'run'; id: number; feeds: WireTensor[]; outputs: readonly string[]; into?: WireTensor[] }
  | { type: 'close' };

export interface WireError {
  code: string;
  message: string;
  kind: 'generic' | 'type' | 'range';
  /** True when the worker threw an OnnxError (of any code): the caller gets the class it would get on its own thread. */
  onnx?: boolean;
}

export type WorkerReply =
  | { type: 'loaded'; inputs: TensorInfo[]; outputs: TensorInfo[] }
  | { type: 'load-failed'; error: WireError }
  /** `recycled`: the staging buffers of the run's feeds, handed back for the next run. */
  | { type: 'result'; id: number; outputs: WireTensor[]; recycled: ArrayBuffer[] }
  | { type: 'run-failed'; id: number; error: WireError; recycled: ArrayBuffer[] }
  /** `released`: the session was released without error (the worker is then clean, reusable). */
  | { type: 'closed'; released: boolean };
