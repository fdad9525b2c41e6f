/**
 * lib/builder: ONNX to TensorRT engine: the precision transforms written into the graph, optimization
 * profiles, the build on a native thread with progress and abort, the engine cache and timing cache,
 * and the check that the requested precision was applied.
 */
export { buildEngine, type BuildEngineOptions, type BuildEngineResult, type EngineBuildReport } from './build-engine.js';
export { checkPrecisionApplied, countLayerPrecisions, type LayerPrecisionCounts } from './precision-check.js';
