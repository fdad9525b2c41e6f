import { describe, expect, it } from 'vitest';
import {
  parseVariantFile,
  rankVariants,
  variantFileName,
  type AddonVariant,
  type HostLibraries,
} from '../../lib/addon/variants.js';
import type { DriverInfo } from '../../lib/addon/system/nvidia-driver.js';

const folder = '/pkg/prebuilds/linux-arm64';
const variants = [
  'tensorrt-node.napi.cuda12.trt10.glibc.node',
  'tensorrt-node.napi.cuda13.trt11.glibc.node',
  'tensorrt-node.napi.cuda12.trt10.tegra.glibc.node',
].map((name) => parseVariantFile(`${folder}/${name}`)!);

const noDriver: DriverInfo = { version: null, maxCudaMajor: null, tegraRelease: null, source: 'none' };
const driver = (version: string, maxCudaMajor: number): DriverInfo => ({
  version,
  maxCudaMajor,
  tegraRelease: null,
  source: '/proc/driver/nvidia/version',
});
const jetson = (release: string, maxCudaMajor: number): DriverInfo => ({
  version: null,
  maxCudaMajor,
  tegraRelease: release,
  source: '/etc/nv_tegra_release',
});
const trt = (major: number, path = `/usr/lib/aarch64-linux-gnu/libnvinfer.so.${major}`) => ({
  major,
  path,
  source: 'dynamic linker search (ld.so.cache)',
});
const host = (facts: Partial<HostLibraries>): HostLibraries => ({ libc: 'glibc', driver: noDriver, tensorrt: [], ...facts });
const order = (choices: ReturnType<typeof rankVariants>) =>
  choices.map((choice) => `${choice.variant.id}${choice.eligible ? '' : ' (ineligible)'}`);

describe('prebuilt variant names', () => {
  it('reads CUDA major, TensorRT major, Jetson and libc from prebuildify-style tags', () => {
    expect(variants.map((variant) => variant.id)).toEqual(['cuda12-trt10', 'cuda13-trt11', 'cuda12-trt10-tegra']);
    expect(variants[2]).toEqual<AddonVariant>({
      file: `${folder}/tensorrt-node.napi.cuda12.trt10.tegra.glibc.node`,
      id: 'cuda12-trt10-tegra',
      cudaMajor: 12,
      tensorrtMajor: 10,
      tegra: true,
      libc: 'glibc',
    });
    expect(parseVariantFile('/x/tensorrt-node.napi.cuda13.glibc.node')).toMatchObject({
      id: 'cuda13',
      cudaMajor: 13,
      tensorrtMajor: null,
    });
  });

  it('the name prebuild:local writes parses back to the same variant', () => {
    for (const [cuda, tensorrt, tegra] of [
      [13, 11, false],
      [12, 10, true],
      [13, null, false],
    ] as const) {
      const parsed = parseVariantFile(`/x/${variantFileName(cuda, tensorrt, tegra)}`)!;
      expect([parsed.cudaMajor, parsed.tensorrtMajor, parsed.tegra, parsed.libc]).toEqual([cuda, tensorrt, tegra, 'glibc']);
    }
  });

  it('files that are not tensorrt-node prebuilds are ignored', () => {
    expect(parseVariantFile('/x/other.napi.node')).toBeNull();
    expect(parseVariantFile('/x/tensorrt-node.napi.cuda13.glibc.node.sha256')).toBeNull();
    expect(parseVariantFile('/x/README.md')).toBeNull();
  });
});

describe('choosing a prebuilt variant for the host', () => {
  it('TensorRT 11 with a CUDA 13 driver: the cuda13-trt11 build first', () => {
    const ranked = rankVariants(variants, host({ driver: driver('580.65.06', 13), tensorrt: [trt(11)] }));
    expect(order(ranked)).toEqual(['cuda13-trt11', 'cuda12-trt10', 'cuda12-trt10-tegra (ineligible)']);
    expect(ranked[0]!.reason).toBe(
      'built for TensorRT 11, as found: libnvinfer.so.11 at /usr/lib/aarch64-linux-gnu/libnvinfer.so.11; CUDA 13 (the driver supports up to 13)',
    );
    expect(ranked[1]!.reason).toMatch(/^built for TensorRT 10, but this host has TensorRT 11/);
    expect(ranked[2]!.reason).toBe('built for Jetson (Tegra) hosts, and this is not one');
  });

  it('TensorRT 10 with a CUDA 12 driver: cuda12-trt10, and the CUDA 13 build is never loaded', () => {
    const ranked = rankVariants(variants, host({ driver: driver('550.54.14', 12), tensorrt: [trt(10)] }));
    expect(order(ranked)).toEqual(['cuda12-trt10', 'cuda13-trt11 (ineligible)', 'cuda12-trt10-tegra (ineligible)']);
    expect(ranked[1]!.reason).toBe(
      "needs a driver for CUDA 13 (>= 580.65.06), but this host's driver 550.54.14 supports CUDA 12",
    );
  });

  it('both majors installed: the one found first in the search order wins', () => {
    const ranked = rankVariants(
      variants,
      host({ driver: driver('590.10', 13), tensorrt: [trt(10, '/opt/trt10/lib/libnvinfer.so.10'), trt(11)] }),
    );
    expect(order(ranked).slice(0, 2)).toEqual(['cuda12-trt10', 'cuda13-trt11']);
    expect(ranked[1]!.reason).toContain('comes first in the search order');
  });

  it('no driver and no TensorRT (a CPU machine): every server variant is eligible, newest CUDA first', () => {
    expect(order(rankVariants(variants, host({})))).toEqual(['cuda13-trt11', 'cuda12-trt10', 'cuda12-trt10-tegra (ineligible)']);
  });

  it('a driver too old for CUDA 12: nothing fits', () => {
    const ranked = rankVariants(variants, host({ driver: driver('470.82.01', 0), tensorrt: [trt(10)] }));
    expect(ranked.every((choice) => !choice.eligible)).toBe(true);
    expect(ranked[0]!.reason).toBe(
      "needs a driver for CUDA 13 (>= 580.65.06), but this host's driver 470.82.01 supports neither CUDA 12 nor 13",
    );
  });

  it('Jetson Orin (JetPack 6): only the .tegra build; server CUDA 12 builds crash there', () => {
    const ranked = rankVariants(variants, host({ driver: jetson('36.4', 12), tensorrt: [trt(10)] }));
    expect(order(ranked)).toEqual(['cuda12-trt10-tegra', 'cuda13-trt11 (ineligible)', 'cuda12-trt10 (ineligible)']);
    expect(ranked[1]!.reason).toBe(
      "needs a driver for CUDA 13 (>= 580.65.06), but this host's Jetson Linux R36.4 supports CUDA 12",
    );
    expect(ranked[2]!.reason).toBe(
      'a server (SBSA) CUDA 12 build, which does not run on Jetson (Jetson Linux R36.4); the .tegra variant does',
    );
  });

  it('Jetson Thor (JetPack 7): the unified CUDA 13 build runs there', () => {
    const ranked = rankVariants(variants, host({ driver: jetson('38.2', 13), tensorrt: [trt(11)] }));
    expect(order(ranked)[0]).toBe('cuda13-trt11');
  });

  it('musl hosts get no glibc build', () => {
    expect(
      rankVariants(variants, host({ libc: 'musl' })).every(
        (choice) => !choice.eligible && choice.reason === 'built for glibc, but this host uses musl',
      ),
    ).toBe(true);
  });

  it('TENSORRT_NODE_VARIANT picks one variant and bypasses the host checks', () => {
    const ranked = rankVariants(variants, host({ driver: driver('550.54.14', 12) }), 'cuda13-trt11');
    expect(order(ranked)).toEqual(['cuda13-trt11', 'cuda12-trt10 (ineligible)', 'cuda12-trt10-tegra (ineligible)']);
    expect(ranked[0]!.reason).toBe('named by TENSORRT_NODE_VARIANT=cuda13-trt11');
    expect(ranked[1]!.reason).toBe('not the variant TENSORRT_NODE_VARIANT=cuda13-trt11 asks for');
  });
});
