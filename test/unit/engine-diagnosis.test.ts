import { describe, expect, it } from 'vitest';
import { diagnoseEngineLoadFailure } from '../../lib/tensorrt/diagnosis.js';

const host = { tensorrtVersion: '10.16.0', computeCapability: '8.9' };

// Messages as TensorRT logs them (quoted in public bug reports: NVIDIA/TensorRT#574,
// deepinsight/insightface#2882, HKUST-Aerial-Robotics/D2SLAM#52).
describe('engine load failure diagnosis', () => {
  it('another TensorRT version', () => {
    const diagnosis = diagnoseEngineLoadFailure(
      [
        'IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan file is not compatible with this version of TensorRT, expecting library version 10.16.0.72 got 10.3.0.26, please rebuild.)',
      ],
      host,
    );
    expect(diagnosis).toEqual({
      kind: 'tensorrt-version',
      engine: '10.3.0.26',
      host: '10.16.0.72',
      fix: expect.stringContaining('built with TensorRT 10.3.0.26 but this host runs TensorRT 10.16.0.72'),
    });
    expect(diagnosis!.fix).toContain('npx tensorrt-node build <model.onnx> -o <engine.plan>');
  });

  it('an empty version from a foreign file still names this host', () => {
    const diagnosis = diagnoseEngineLoadFailure(
      ['The engine plan file is not compatible with this version of TensorRT, expecting library version 10.12.0.36 got .'],
      host,
    );
    expect(diagnosis).toMatchObject({ kind: 'tensorrt-version', engine: null, host: '10.12.0.36' });
  });

  it('a serialization version tag mismatch', () => {
    const diagnosis = diagnoseEngineLoadFailure(
      [
        '[stdArchiveReader.cpp::StdArchiveReader::40] Error Code 1: Serialization (Serialization assertion stdVersionRead == serializationVersion failed.Version tag does not match. Note: Current Version: 213, Serialized Engine Version: 232)',
      ],
      host,
    );
    expect(diagnosis).toMatchObject({
      kind: 'tensorrt-version',
      engine: 'serialization version 232',
      host: 'serialization version 213 (TensorRT 10.16.0)',
    });
  });

  it('another GPU architecture', () => {
    const diagnosis = diagnoseEngineLoadFailure(
      [
        'IRuntime::deserializeCudaEngine: Error Code 6: API Usage Error (The engine plan file is generated on an incompatible device, expecting compute 8.9 got compute 8.6, please rebuild.)',
      ],
      host,
    );
    expect(diagnosis).toEqual({
      kind: 'gpu-architecture',
      engine: '8.6',
      host: '8.9',
      fix: expect.stringContaining('built for GPUs of compute capability 8.6 but this GPU is 8.9'),
    });
  });

  it('host code refused', () => {
    expect(
      diagnoseEngineLoadFailure(['Cannot deserialize engine with host code: setEngineHostCodeAllowed(true) is required'], host)
        ?.kind,
    ).toBe('host-code');
  });

  it('garbage bytes', () => {
    expect(
      diagnoseEngineLoadFailure(['Serialization assertion plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed.'], host)?.kind,
    ).toBe('not-an-engine');
  });

  it('anything else is left as TensorRT said it', () => {
    expect(diagnoseEngineLoadFailure(['out of memory'], host)).toBeNull();
  });
});
