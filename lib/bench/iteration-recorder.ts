/**
 * Per-iteration bookkeeping during a run, kept cheap on purpose (the harness must add <= 1% to a
 * raw loop): times go into growable Float64Array columns, and records are only materialized, with
 * trtexec's --exportTimes field names, after the run.
 */
import type { PhaseTimings } from './target.js';

/**
 * One iteration as trtexec's --exportTimes writes it (samples/common/sampleReporting.cpp,
 * exportJSONTrace): times in ms from the start of the measurement. With phases, latencyMs is
 * trtexec's "Latency" (h2dMs + computeMs + d2hMs) and endToEndMs is what JS saw from calling run()
 * to its promise settling (the name trtexec 8.x used for its end-to-end host latency). Without
 * phases (the cpu backend) only latencyMs is known, and it is the time JS saw.
 */
export interface IterationRecord {
  startEnqMs?: number;
  endEnqMs?: number;
  startH2dMs?: number;
  endH2dMs?: number;
  startComputeMs?: number;
  endComputeMs?: number;
  startD2hMs?: number;
  endD2hMs?: number;
  h2dMs?: number;
  computeMs?: number;
  d2hMs?: number;
  latencyMs: number;
  endToEndMs?: number;
}

/** The per-iteration durations of a run, one array per metric, in ms. */
export interface IterationSeries {
  /** h2d + compute + d2h with phases, else the time JS saw. */
  latency: Float64Array;
  /** The time JS saw; only with phases (else it is `latency`). */
  endToEnd?: Float64Array;
  enqueue?: Float64Array;
  h2d?: Float64Array;
  compute?: Float64Array;
  d2h?: Float64Array;
}

const PHASE_KEYS = [
  'enqueueStartMs',
  'enqueueEndMs',
  'h2dStartMs',
  'h2dEndMs',
  'computeStartMs',
  'computeEndMs',
  'd2hStartMs',
  'd2hEndMs',
] as const;

class GrowableColumn {
  values: Float64Array;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  grow(): void {
    const larger = new Float64Array(this.values.length * 2);
    larger.set(this.values);
    this.values = larger;
  }
}

export class IterationRecorder {
  readonly withPhases: boolean;
  /** performance.now() at the start of the measurement; every recorded time is relative to it. */
  readonly originMs: number;
  #count = 0;
  #capacity: number;
  readonly #hostStart: GrowableColumn;
  readonly #hostEnd: GrowableColumn;
  readonly #phases: GrowableColumn[];

  constructor(withPhases: boolean, originMs: number, initialCapacity = 4096) {
    this.withPhases = withPhases;
    this.originMs = originMs;
    this.#capacity = Math.max(16, initialCapacity);
    this.#hostStart = new GrowableColumn(this.#capacity);
    this.#hostEnd = new GrowableColumn(this.#capacity);
    this.#phases = withPhases ? PHASE_KEYS.map(() => new GrowableColumn(this.#capacity)) : [];
  }

  get count(): number {
    return this.#count;
  }

  /** Records one finished request; `phases` must be given exactly when the recorder has phases. */
  record(hostStartMs: number, hostEndMs: number, phases: PhaseTimings | undefined): void {
    if (this.#count === this.#capacity) {
      this.#hostStart.grow();
      this.#hostEnd.grow();
      for (const column of this.#phases) column.grow();
      this.#capacity *= 2;
    }
    const index = this.#count;
    this.#hostStart.values[index] = hostStartMs - this.originMs;
    this.#hostEnd.values[index] = hostEndMs - this.originMs;
    if (this.withPhases) {
      if (phases === undefined)
        throw new TypeError('run() resolved without PhaseTimings although describe() said measuresPhases');
      for (let k = 0; k < PHASE_KEYS.length; k++) this.#phases[k]!.values[index] = phases[PHASE_KEYS[k]!] - this.originMs;
    } else if (phases !== undefined) {
      throw new TypeError('run() resolved with PhaseTimings although describe() said it does not measure phases');
    }
    this.#count = index + 1;
  }

  /** Host time from the first request's start to the last one's end, in ms (0 without records). */
  walltimeMs(): number {
    if (this.#count === 0) return 0;
    let first = Infinity;
    let last = -Infinity;
    for (let i = 0; i < this.#count; i++) {
      first = Math.min(first, this.#hostStart.values[i]!);
      last = Math.max(last, this.#hostEnd.values[i]!);
    }
    return last - first;
  }

  series(): IterationSeries {
    const n = this.#count;
    const endToEnd = new Float64Array(n);
    for (let i = 0; i < n; i++) endToEnd[i] = this.#hostEnd.values[i]! - this.#hostStart.values[i]!;
    if (!this.withPhases) return { latency: endToEnd };
    const column = (k: number) => this.#phases[k]!.values;
    const difference = (endKey: number, startKey: number) => {
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = column(endKey)[i]! - column(startKey)[i]!;
      return out;
    };
    const enqueue = difference(1, 0);
    const h2d = difference(3, 2);
    const compute = difference(5, 4);
    const d2h = difference(7, 6);
    const latency = new Float64Array(n);
    for (let i = 0; i < n; i++) latency[i] = h2d[i]! + compute[i]! + d2h[i]!;
    return { latency, endToEnd, enqueue, h2d, compute, d2h };
  }

  /** The iterations as trtexec's --exportTimes records. */
  records(): IterationRecord[] {
    const series = this.series();
    const records: IterationRecord[] = [];
    for (let i = 0; i < this.#count; i++) {
      if (!this.withPhases) {
        records.push({ latencyMs: series.latency[i]! });
        continue;
      }
      const at = (k: number) => this.#phases[k]!.values[i]!;
      records.push({
        startEnqMs: at(0),
        endEnqMs: at(1),
        startH2dMs: at(2),
        endH2dMs: at(3),
        startComputeMs: at(4),
        endComputeMs: at(5),
        startD2hMs: at(6),
        endD2hMs: at(7),
        h2dMs: series.h2d![i]!,
        computeMs: series.compute![i]!,
        d2hMs: series.d2h![i]!,
        latencyMs: series.latency[i]!,
        endToEndMs: series.endToEnd![i]!,
      });
    }
    return records;
  }
}
