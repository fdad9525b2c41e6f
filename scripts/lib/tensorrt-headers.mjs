// Reads the TensorRT version from a TensorRT include/ folder (NvInferVersion.h). Releases from late
// 10.x define the numbers through TRT_*_ENTERPRISE macros, earlier ones as NV_TENSORRT_* numbers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** "11.1.0" for the headers in `includeDir`; throws when NvInferVersion.h is missing. */
export function tensorrtHeaderVersion(includeDir) {
  const text = readFileSync(join(includeDir, 'NvInferVersion.h'), 'utf8');
  const part = (name) =>
    (text.match(new RegExp(`#define\\s+TRT_${name}_ENTERPRISE\\s+(\\d+)`)) ??
      text.match(new RegExp(`#define\\s+NV_TENSORRT_${name}\\s+(\\d+)`)))?.[1] ?? '0';
  return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
}
