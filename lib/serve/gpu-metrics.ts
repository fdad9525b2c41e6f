/**
 * GPU utilization, memory and power for /metrics, with Triton's metric names, read through NVML by
 * way of nvidia-smi (the addon has no NVML binding; nvidia-smi ships with every driver). Sampled in
 * the background with an async child process, never on the request path; on hosts without
 * nvidia-smi (or without a GPU) the first failure turns sampling off and no GPU series appear.
 */
import { execFile } from 'node:child_process';

export interface GpuSample {
  index: number;
  uuid: string;
  /** 0..1, as Triton's nv_gpu_utilization. */
  utilization: number;
  memoryUsedBytes: number;
  memoryTotalBytes: number;
  /** null where the GPU does not report power. */
  powerWatts: number | null;
}

const QUERY = 'index,uuid,utilization.gpu,memory.used,memory.total,power.draw';
const MIB = 1024 * 1024;

/** nvidia-smi --query-gpu=<QUERY> --format=csv,noheader,nounits output -> samples ("[N/A]" fields become null or skip the GPU). */
export function parseNvidiaSmi(text: string): GpuSample[] {
  const samples: GpuSample[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(',').map((field) => field.trim());
    if (fields.length < 6) continue;
    const [index, uuid, utilization, used, total, power] = fields;
    const numbers = [Number(index), Number(utilization), Number(used), Number(total)];
    if (!uuid || numbers.some((value) => !Number.isFinite(value))) continue;
    const watts = Number(power);
    samples.push({
      index: numbers[0]!,
      uuid: uuid!,
      utilization: numbers[1]! / 100,
      memoryUsedBytes: numbers[2]! * MIB,
      memoryTotalBytes: numbers[3]! * MIB,
      powerWatts: Number.isFinite(watts) ? watts : null,
    });
  }
  return samples;
}

export type RunNvidiaSmi = (args: string[]) => Promise<string>;

const runNvidiaSmi: RunNvidiaSmi = (args) =>
  new Promise((resolve, reject) => {
    execFile('nvidia-smi', args, { timeout: 5000, encoding: 'utf8' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
  });

export class GpuSampler {
  #latest: GpuSample[] = [];
  #timer: NodeJS.Timeout | null = null;
  #enabled = true;
  #sampling = false;
  readonly #run: RunNvidiaSmi;
  readonly #intervalMs: number;

  constructor(intervalMs = 5000, run: RunNvidiaSmi = runNvidiaSmi) {
    this.#intervalMs = intervalMs;
    this.#run = run;
  }

  /** Samples now and then every interval, until stop() or the first failure. */
  start(): void {
    if (this.#timer || !this.#enabled) return;
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  async sample(): Promise<void> {
    if (!this.#enabled || this.#sampling) return;
    this.#sampling = true;
    try {
      this.#latest = parseNvidiaSmi(await this.#run([`--query-gpu=${QUERY}`, '--format=csv,noheader,nounits']));
    } catch {
      // No nvidia-smi, no driver or no GPU: nothing to report, and no point in asking again.
      this.#enabled = false;
      this.#latest = [];
      this.stop();
    } finally {
      this.#sampling = false;
    }
  }

  latest(): readonly GpuSample[] {
    return this.#latest;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}
