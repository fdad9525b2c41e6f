/**
 * The load generator's two ways of driving a server:
 *
 * - open loop (`--request-rate`): requests go out on a schedule fixed in advance (Poisson or
 *   constant arrivals), whether or not earlier ones have been answered, and each one's latency is
 *   measured from its *intended* send time. A server that falls behind therefore shows its queueing
 *   delay in full; a closed loop would wait for it and report the delay away ("coordinated
 *   omission"). How late the client itself sent (send lag) is kept, to tell a slow client apart.
 * - closed loop (`--concurrency`): N requests in flight, each sent when the previous one returns.
 *
 * Failed requests never stop a run: they are counted by code, and latency percentiles are of the
 * successful requests (the report shows both).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { hostCpuUsage, summarizeEventLoop } from '../driver.js';
import { IterationRecorder } from '../iteration-recorder.js';
import type { EventLoopDelaySummary, HostCpuUsage } from '../results.js';
import { summarize, type MetricSummary } from '../statistics.js';
import { arrivalGaps, type ArrivalKind } from './arrivals.js';
import { LoadFailure } from './clients.js';

/** What a load driver sends requests to: one call is one request. */
export interface LoadTarget {
  /** Sends one request; rejects with a LoadFailure saying which kind of failure it was. */
  infer(): Promise<void>;
}

/** An open-loop run: requests sent on a schedule whether or not earlier ones finished. */
export interface OpenLoopOptions {
  ratePerSecond: number;
  arrival: ArrivalKind;
  durationMs: number;
  /** Requests outstanding at once beyond which new ones are dropped (counted as "client_overload"). */
  maxInFlight: number;
  seed: number;
}

/** A closed-loop run: `concurrency` clients, each sending its next request when the last one finished. */
export interface ClosedLoopOptions {
  concurrency: number;
  durationMs: number;
}

/** What a load driver measured: latencies of the successful requests and the count of each kind of failure. */
export interface LoadMeasurement {
  /** Successful requests: start = intended send time (open loop) or actual send time (closed loop). */
  recorder: IterationRecorder;
  /** Requests the schedule called for (open loop) or that were started (closed loop). */
  sent: number;
  succeeded: number;
  failuresByCode: Record<string, number>;
  /** The first failure seen, for the run's error record when nothing succeeded. */
  firstFailure: unknown;
  /** Open loop: how late requests left against their schedule, in ms. */
  sendLag: MetricSummary | null;
  /** From the first intended send to the last response, in ms. */
  elapsedMs: number;
  eventLoopDelay: EventLoopDelaySummary | null;
  hostCpu: HostCpuUsage;
}

function failureCode(error: unknown): string {
  if (error instanceof LoadFailure) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

class Tally {
  succeeded = 0;
  readonly failuresByCode: Record<string, number> = {};
  firstFailure: unknown = undefined;

  fail(error: unknown): void {
    const code = failureCode(error);
    this.failuresByCode[code] = (this.failuresByCode[code] ?? 0) + 1;
    this.firstFailure ??= error;
  }
}

/** Watches the client's own event loop and CPU for a run (is the client keeping up?). */
function watchClient(): () => { eventLoopDelay: EventLoopDelaySummary | null; hostCpu: HostCpuUsage; elapsedMs: number } {
  const resolutionMs = 10;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  return () => {
    histogram.disable();
    const cpu = process.cpuUsage(cpuStart);
    const elapsedMs = performance.now() - start;
    return {
      eventLoopDelay: summarizeEventLoop(histogram, resolutionMs),
      hostCpu: hostCpuUsage(cpu, elapsedMs),
      elapsedMs,
    };
  };
}

/** Sends requests to `target` at `options.ratePerSecond` for `options.durationMs`, measuring latency from each request's intended send time (no coordinated omission). */
export async function runOpenLoop(target: LoadTarget, options: OpenLoopOptions): Promise<LoadMeasurement> {
  const gap = arrivalGaps(options.arrival, options.ratePerSecond, options.seed);
  const stopWatching = watchClient();
  // A little lead so that the first intended time is not already in the past.
  const origin = performance.now() + 2;
  const end = origin + options.durationMs;
  const recorder = new IterationRecorder(false, origin);
  const tally = new Tally();
  const lags: number[] = [];
  let next = origin;
  let sent = 0;
  let inFlight = 0;
  let lastResponse = origin;
  await new Promise<void>((resolve) => {
    let scheduling = true;
    const settle = () => {
      inFlight--;
      if (!scheduling && inFlight === 0) resolve();
    };
    const tick = () => {
      const now = performance.now();
      while (next <= now && next < end) {
        const intended = next;
        next += gap();
        sent++;
        if (inFlight >= options.maxInFlight) {
          tally.fail(new LoadFailure('client_overload', `more than ${options.maxInFlight} requests outstanding`));
          continue;
        }
        inFlight++;
        lags.push(now - intended);
        target.infer().then(
          () => {
            lastResponse = performance.now();
            recorder.record(intended, lastResponse, undefined);
            tally.succeeded++;
            settle();
          },
          (error: unknown) => {
            lastResponse = performance.now();
            tally.fail(error);
            settle();
          },
        );
      }
      if (next >= end) {
        scheduling = false;
        if (inFlight === 0) resolve();
        return;
      }
      // Timers fire up to ~1 ms late; that lateness is in the send lag and, rightly, in the latency.
      setTimeout(tick, Math.max(0, next - performance.now()));
    };
    setTimeout(tick, Math.max(0, origin - performance.now()));
  });
  const watched = stopWatching();
  return {
    recorder,
    sent,
    succeeded: tally.succeeded,
    failuresByCode: tally.failuresByCode,
    firstFailure: tally.firstFailure,
    sendLag: summarize(Float64Array.from(lags), [50, 99]) ?? null,
    elapsedMs: Math.max(lastResponse, end) - origin,
    eventLoopDelay: watched.eventLoopDelay,
    hostCpu: watched.hostCpu,
  };
}

/** Runs `options.concurrency` clients against `target` for `options.durationMs`, each sending again as soon as its request finished. */
export async function runClosedLoop(target: LoadTarget, options: ClosedLoopOptions): Promise<LoadMeasurement> {
  const stopWatching = watchClient();
  const origin = performance.now();
  const end = origin + options.durationMs;
  const recorder = new IterationRecorder(false, origin);
  const tally = new Tally();
  let sent = 0;
  let lastResponse = origin;
  const worker = async () => {
    while (performance.now() < end) {
      sent++;
      const start = performance.now();
      try {
        await target.infer();
        lastResponse = performance.now();
        recorder.record(start, lastResponse, undefined);
        tally.succeeded++;
      } catch (error) {
        lastResponse = performance.now();
        tally.fail(error);
        // A server that refuses at once must not turn the loop into a busy spin.
        if (lastResponse - start < 1) await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const watched = stopWatching();
  return {
    recorder,
    sent,
    succeeded: tally.succeeded,
    failuresByCode: tally.failuresByCode,
    firstFailure: tally.firstFailure,
    sendLag: null,
    elapsedMs: lastResponse - origin,
    eventLoopDelay: watched.eventLoopDelay,
    hostCpu: watched.hostCpu,
  };
}
