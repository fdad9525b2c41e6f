import { describe, expect, it } from 'vitest';
import { formatCudaVersion } from '../../lib/addon/cuda-diagnosis.js';

describe('capabilities helpers', () => {
  it('unpacks CUDA versions', () => {
    expect(formatCudaVersion(13000)).toBe('13.0');
    expect(formatCudaVersion(12040)).toBe('12.4');
    expect(formatCudaVersion(12090)).toBe('12.9');
    expect(formatCudaVersion(0)).toBeNull();
  });
});
