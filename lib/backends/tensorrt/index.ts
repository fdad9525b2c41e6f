/**
 * lib/backends/tensorrt: the tensorrt backend: N execution contexts of one Engine (one per
 * optimization profile a request needs), with prompt aborts and zero-copy bindings.
 */
export { createTensorRTBackend, profileFor, type SlotContextOptions } from './backend.js';
