import { capabilities, type Capabilities } from '../../addon/capabilities.js';
import type { Command } from '../command.js';

const ok = (text: string) => `  ok    ${text}`;
const bad = (text: string) => `  no    ${text}`;

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function describeOutcome(candidate: Capabilities['addon']['candidates'][number]): string {
  switch (candidate.status) {
    case 'not-tried':
      return `not tried: ranks below the loaded binary; ${candidate.reason}`;
    case 'skipped':
      return `skipped: ${candidate.outcome}`;
    case 'failed':
      return `failed to load: ${candidate.outcome}`;
    default:
      return candidate.outcome;
  }
}

/** The human report: one line per fact, then every problem with its fix. */
export function formatDoctorReport(caps: Capabilities): string {
  const lines: string[] = [];
  lines.push(
    `tensorrt-node ${caps.package.version} on Node ${caps.host.node} (N-API ${caps.host.napiVersion}), ${caps.host.platform}-${caps.host.arch}, glibc ${caps.host.glibc ?? 'unknown'}`,
  );
  lines.push('', 'Native addon');
  const loadedCandidate = caps.addon.candidates.find((candidate) => candidate.status === 'loaded');
  if (caps.addon.loaded && caps.addon.build) {
    const build = caps.addon.build;
    const kind = caps.addon.variant ? `prebuilt variant ${caps.addon.variant}` : (loadedCandidate?.source ?? 'addon');
    lines.push(
      ok(
        `loaded ${caps.addon.path} (${kind}, version ${caps.addon.version}, N-API ${build.napiVersion}, ${build.compiler}, ${build.buildType})`,
      ),
    );
    if (loadedCandidate) lines.push(`        chosen because: ${loadedCandidate.reason}`);
    lines.push(
      build.cuda.compiled
        ? ok(`compiled with CUDA ${build.cuda.toolkitVersion} (architectures ${build.cuda.architectures})`)
        : bad(`compiled without CUDA: ${build.cuda.missingReason}`),
    );
    if (build.tensorrt.emulated)
      lines.push(bad('compiled against the fake TensorRT of the emulated tier (a test build): no real TensorRT'));
    else
      lines.push(
        build.tensorrt.compiled
          ? ok(`compiled with TensorRT ${build.tensorrt.headersVersion} headers`)
          : bad(`compiled without TensorRT: ${build.tensorrt.missingReason}`),
      );
  } else {
    lines.push(bad('not loaded'));
    if (caps.addon.candidates.length === 0) lines.push('        no source build and no prebuilt binary for this platform');
  }
  const others = caps.addon.candidates.filter((candidate) => candidate.status !== 'loaded');
  if (others.length > 0) lines.push(caps.addon.loaded ? '        other binaries:' : '        binaries tried:');
  for (const candidate of others) {
    const label = candidate.variant ? `prebuilt ${candidate.variant}` : candidate.source;
    lines.push(`        - ${candidate.path} [${label}]: ${describeOutcome(candidate)}`);
  }

  lines.push('', 'CUDA');
  if (caps.cuda.emulated) {
    lines.push(bad('emulated device (a test build): no GPU'));
  } else if (caps.cuda.compiled) {
    lines.push(`        runtime ${caps.cuda.runtimeVersion ?? 'unknown'}, driver ${caps.cuda.driverVersion ?? 'none'}`);
    // The diagnosis, not CUDA's text: error 35 says "driver version is insufficient" even with no driver at all.
    if (caps.cuda.diagnosis)
      lines.push(bad(`${caps.cuda.diagnosis.message}${caps.cuda.error ? ` (CUDA error ${caps.cuda.error.code})` : ''}`));
    else if (caps.cuda.error)
      lines.push(bad(`${caps.cuda.error.name} (error ${caps.cuda.error.code}): ${caps.cuda.error.message}`));
    else lines.push(ok(`${caps.cuda.deviceCount} device(s)`));
    for (const device of caps.devices) {
      lines.push(
        `        [${device.index}] ${device.name}, compute ${device.computeCapability}, ${gib(device.totalMemoryBytes)}, ${device.multiProcessorCount} SMs, PCI ${device.pciBusId}, ${device.uuid}`,
      );
    }
  } else {
    lines.push(bad('not available in this build'));
  }

  lines.push('', 'TensorRT');
  if (caps.tensorrt.found && caps.tensorrt.version) {
    lines.push(ok(`libnvinfer ${caps.tensorrt.version} at ${caps.tensorrt.path}`));
    if (caps.tensorrt.plugins)
      lines.push(
        caps.tensorrt.plugins.found
          ? ok(`standard plugins: ${caps.tensorrt.plugins.path}`)
          : bad(`standard plugins: ${caps.tensorrt.plugins.reason}`),
      );
  } else if (caps.tensorrt.found) lines.push(bad(`found ${caps.tensorrt.path}, but of another major version`));
  else if (caps.addon.loaded) {
    lines.push(bad(`libnvinfer not found; searched:`));
    for (const attempt of caps.tensorrt.searched) lines.push(`        ${attempt.path} [${attempt.source}]: ${attempt.outcome}`);
    lines.push(`        (the dynamic linker searched: ${caps.tensorrt.dynamicLinkerFolders.join(', ')})`);
  } else lines.push(bad('not probed (no native addon)'));

  lines.push('', 'Backends');
  lines.push(caps.backends.tensorrt.available ? ok('tensorrt') : bad(`tensorrt: ${caps.backends.tensorrt.reason}`));
  lines.push(
    caps.backends.cpu.available
      ? ok(`cpu (onnxruntime-node ${caps.backends.cpu.version})`)
      : bad(`cpu: ${caps.backends.cpu.reason}`),
  );

  if (caps.problems.length > 0) {
    lines.push('', 'How to fix');
    for (const problem of caps.problems) lines.push(`  - ${problem.message}`, `    fix: ${problem.fix}`);
  }
  return `${lines.join('\n')}\n`;
}

export const doctorCommand: Command<{ json?: boolean; 'tensorrt-lib'?: string }> = {
  name: 'doctor',
  usage: 'doctor [--json] [--tensorrt-lib <folder|file>]',
  help: '  --json                 print the report as JSON\n  --tensorrt-lib <path>  load libnvinfer from this folder or file instead of searching',
  options: { json: { type: 'boolean' }, 'tensorrt-lib': { type: 'string' } },
  async run(values, _positionals, { stdout }) {
    const caps = await capabilities({ tensorrtLibraryPath: values['tensorrt-lib'] });
    stdout.write(values.json ? `${JSON.stringify(caps, null, 2)}\n` : formatDoctorReport(caps));
    return 0;
  },
};
