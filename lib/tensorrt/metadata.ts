/** What a TensorRT engine says about itself (EngineWrap.metadata()), as plain data. */

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

export interface ProfileBounds {
  min: number[];
  opt: number[];
  max: number[];
}

export interface EngineProfile {
  index: number;
  /** Bounds of every dynamic-shape input for this optimization profile. */
  inputs: Record<string, ProfileBounds>;
}

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
