/**
 * What a reader needs before the tables: where each results file ran (backend, and the GPU or why
 * there was none), how the backend was chosen (`--backend auto` is not "asked for by name"), and
 * what its precisions mean there: the cpu backend computes fp16 and int8 graphs to reproduce their
 * numerics, not to be fast, so a ratio like "fp16 0.75x of fp32" on it says nothing of a GPU.
 *
 * Everything comes from the results files themselves (their environment, options and runs), so a
 * report made elsewhere, later, from older files says the same.
 */
import type { BenchEnvironment } from '../environment.js';
import { askedBackends, type ReportInput, type ReportModel } from './model.js';

/** Why no GPU ran, from the environment a results file recorded; null when one did. */
export function whyNoGpu(environment: BenchEnvironment): string | null {
  if (environment.gpus.length > 0) return null;
  const { cuda, driver } = environment;
  if (cuda.runtimeVersion === null) return 'this build of tensorrt-node has no CUDA';
  if (cuda.driverVersion === null)
    return driver.version
      ? `the NVIDIA kernel driver ${driver.version} is loaded but its CUDA library (libcuda.so.1) is missing`
      : 'no NVIDIA driver is installed (libcuda.so.1 is missing)';
  if (Number.parseFloat(cuda.driverVersion) < Number.parseFloat(cuda.runtimeVersion)) {
    return `the NVIDIA driver${driver.version ? ` ${driver.version}` : ''} supports CUDA up to ${cuda.driverVersion}, older than the CUDA ${cuda.runtimeVersion} of tensorrt-node`;
  }
  return 'the NVIDIA driver sees no GPU';
}

function join(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** One sentence per results file: the backend(s), the device or why not, and how the backend was chosen. */
function whereItRan(input: ReportInput, label: string | null): string {
  const { results } = input;
  const environment = results.environment;
  const ran = [
    ...new Set(
      results.runs
        .filter((run) => run.source === 'tensorrt-node')
        .map((run) => run.target?.backend ?? run.point.backend ?? 'unknown'),
    ),
  ];
  const imported = results.runs.some((run) => run.source === 'trtexec');
  const prefix = label ? `${label}: ` : '';
  const parts: string[] = [];
  if (ran.length > 0) {
    const asked = askedBackends(results);
    const byAuto = ran.filter((backend) => asked.includes('auto') && !asked.includes(backend));
    const how = byAuto.length > 0 ? ' (chosen by --backend auto)' : asked.length > 0 ? ' (asked for by name)' : '';
    parts.push(`ran on the ${join(ran)} backend${ran.length > 1 ? 's' : ''}${how}`);
  }
  if (imported) parts.push('imported trtexec runs');
  const gpus = environment.gpus.map((gpu) => `${gpu.name} (compute ${gpu.computeCapability})`);
  const noGpu = whyNoGpu(environment);
  const cpu = `${environment.host.cpuModel} (${environment.host.cpuCores} cores)`;
  const device = gpus.length > 0 ? `on ${join(gpus)}` : `on ${cpu}; no GPU: ${noGpu}`;
  const tensorrt = gpus.length > 0 && environment.tensorrt.version === null ? '; TensorRT was not found' : '';
  return `${prefix}${parts.length > 0 ? join(parts) : 'no runs'} ${device}${tensorrt}.`;
}

/** What the precisions measured on the cpu backend mean, when the report has such runs. */
function precisionCaveats(model: ReportModel): string[] {
  const cpuPrecisions = new Set(
    model.rows.filter((row) => row.backend === 'cpu' && row.run.status === 'ok').map((row) => row.precision),
  );
  const caveats: string[] = [];
  if (cpuPrecisions.has('fp16')) {
    caveats.push(
      'fp16 on the cpu backend reproduces fp16 numerics (the graph converted as for TensorRT) to check accuracy; it is not faster than fp32 there, and its speed says nothing of fp16 on a GPU.',
    );
  }
  if (cpuPrecisions.has('int8')) {
    caveats.push(
      'int8 on the cpu backend runs the Q/DQ graph to check accuracy; its speed says nothing of TensorRT INT8 kernels.',
    );
  }
  return caveats;
}

/** The report's opening lines: where each file ran and why there, then the precision caveats. */
export function reportHeadline(model: ReportModel): string[] {
  const several = model.inputs.length > 1;
  return [
    ...model.inputs
      .map((input) => whereItRan(input, several ? input.file : null))
      .map((line) => line.charAt(0).toUpperCase() + line.slice(1)),
    ...precisionCaveats(model),
  ];
}
