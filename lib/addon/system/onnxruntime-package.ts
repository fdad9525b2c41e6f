/**
 * onnxruntime-node is an optional peer dependency: installed as a dependency, its postinstall would
 * download CUDA libraries (hundreds of MB, from outside the npm registry) into every project that
 * installs tensorrt-node. Users who want the cpu backend install it themselves, without that
 * download; everything else in the package works without it.
 */
import { createRequire } from 'node:module';
import { ErrorCode, TensorRTNodeError } from '../../core/errors.js';

// The environment variable, read by onnxruntime-node's install script itself: npm 11 warns about
// every unknown `--onnxruntime-node-install` flag or .npmrc key (and will drop them in its next major).
export const onnxRuntimeInstallHint = 'ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node';

/** The installed onnxruntime-node version, or null when it is not installed. */
export function onnxRuntimeVersion(): string | null {
  try {
    return (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

/** Throws ERR_NOT_SUPPORTED with the install command when onnxruntime-node is missing. */
export function requireOnnxRuntime(what = 'The cpu backend'): string {
  const version = onnxRuntimeVersion();
  if (version === null) {
    throw new TensorRTNodeError(
      ErrorCode.NOT_SUPPORTED,
      `${what} needs onnxruntime-node, an optional peer dependency that is not installed. Install it (without its CUDA download): ${onnxRuntimeInstallHint}`,
    );
  }
  return version;
}
