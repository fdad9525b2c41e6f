/**
 * lib/addon/system: what the host has, read without loading the addon: glibc, the NVIDIA driver
 * (or Jetson's L4T release), TensorRT libraries on disk, pip-installed TensorRT and onnxruntime-node.
 */
export { glibcVersion } from './glibc.js';
export { readNvidiaDriver, type DriverInfo } from './nvidia-driver.js';
export { findTensorRTLibraries, tensorrtMajors, type FoundTensorRT } from './tensorrt-libraries.js';
export { findPythonTensorRTDirs, pythonTensorRTDirsOnce } from './python-tensorrt-dirs.js';
export { onnxRuntimeVersion, requireOnnxRuntime, onnxRuntimeInstallHint } from './onnxruntime-package.js';
