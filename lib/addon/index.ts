/**
 * lib/addon: the native binary as the rest of lib/ sees it: its typed surface (./types.ts), which
 * binary is loaded and why (./loader.ts, ./variants.ts), and what this machine can do
 * (./capabilities.ts, probes under ./system/). Nothing here runs GPU work.
 */
export { capabilities, type Capabilities, type CapabilitiesOptions, type DeviceInfo, type Problem } from './capabilities.js';
export type { CudaDiagnosis, CudaProblemKind } from './cuda-diagnosis.js';
export { packageVersion } from './loader.js';
export type {
  BuildInfo,
  BuildProgressEvent,
  EngineMetadata,
  EngineProfile,
  EngineTensorInfo,
  PhaseTimings,
  ProfileBounds,
} from './types.js';
