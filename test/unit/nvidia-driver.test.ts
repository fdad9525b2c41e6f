import { describe, expect, it } from 'vitest';
import {
  cudaMajorForDriver,
  parseDriverVersion,
  parseTegraRelease,
  readNvidiaDriver,
} from '../../lib/addon/system/nvidia-driver.js';

const files = (map: Record<string, string>) => (path: string) => map[path] ?? null;

describe('NVIDIA driver facts', () => {
  it('reads the version of the proprietary and the open kernel module', () => {
    expect(
      parseDriverVersion(
        'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 01:44:30 UTC 2024\nGCC version:  gcc version 12.2.0\n',
      ),
    ).toBe('550.54.14');
    expect(
      parseDriverVersion(
        'NVRM version: NVIDIA UNIX Open Kernel Module for aarch64  580.65.06  Release Build  (dvs-builder@U16-I3-B03-4-3)  Sun Jul 27 07:09:25 UTC 2025\n',
      ),
    ).toBe('580.65.06');
    expect(parseDriverVersion('something else')).toBeNull();
  });

  it('maps driver versions to the newest CUDA major they run (minor-version compatibility floors)', () => {
    expect(cudaMajorForDriver('580.65.06')).toBe(13);
    expect(cudaMajorForDriver('580.65.05')).toBe(12);
    expect(cudaMajorForDriver('525.60.13')).toBe(12);
    expect(cudaMajorForDriver('525.60.12')).toBe(0);
    expect(cudaMajorForDriver('470.82.01')).toBe(0);
  });

  it('reads the Jetson Linux release', () => {
    expect(
      parseTegraRelease(
        '# R36 (release), REVISION: 4.3, GCID: 38968081, BOARD: generic, EABI: aarch64, DATE: Wed Jan  8 01:49:37 UTC 2025\n',
      ),
    ).toBe('36.4');
  });

  it('combines the files: desktop driver, Jetson, Jetson container, nothing', () => {
    expect(
      readNvidiaDriver(
        files({
          '/proc/driver/nvidia/version':
            'NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024\n',
        }),
      ),
    ).toEqual({ version: '535.183.01', maxCudaMajor: 12, tegraRelease: null, source: '/proc/driver/nvidia/version' });
    expect(readNvidiaDriver(files({ '/etc/nv_tegra_release': '# R36 (release), REVISION: 4.0, GCID: 1\n' }))).toEqual({
      version: null,
      maxCudaMajor: 12,
      tegraRelease: '36.4',
      source: '/etc/nv_tegra_release',
    });
    expect(
      readNvidiaDriver(
        files({ '/proc/device-tree/compatible': 'nvidia,p3768-0000+p3767-0005\0nvidia,p3767-0005\0nvidia,tegra234\0' }),
      ),
    ).toMatchObject({ maxCudaMajor: 12, tegraRelease: '36.0' });
    expect(readNvidiaDriver(files({ '/proc/device-tree/compatible': 'nvidia,p3971-0080\0nvidia,tegra264\0' }))).toMatchObject({
      maxCudaMajor: 13,
      tegraRelease: '38.0',
    });
    expect(readNvidiaDriver(files({}))).toMatchObject({ version: null, maxCudaMajor: null, tegraRelease: null });
  });
});
