/**
 * `tensorrt-node bench --url ...` options: the remote (load generator) form of the bench command,
 * validated before anything connects, with the sharp-style message template.
 */
import { ArgumentRangeError, ArgumentTypeError } from '../../core/errors.js';
import { parseShapes } from '../../core/shape-spec.js';
import { expectOneOf, invalidValue } from '../../core/validate.js';
import { DEFAULT_PERCENTILES } from '../statistics.js';
import { parseDuration } from '../../core/units.js';
import {
  MAX_CONCURRENCY,
  MAX_DURATION_MS,
  MAX_WARMUP_MS,
  parseIntegerList,
  parsePercentiles,
  parsePositiveInteger,
} from '../options.js';
import type { ArrivalKind } from './arrivals.js';
import type { Protocol } from './clients.js';

export const MAX_REQUEST_RATE = 1_000_000;

/** A benchmark against a running server (`bench --url`), checked: see {@link parseRemoteBenchOptions}. */
export interface RemoteBenchOptions {
  url: string;
  protocol: Protocol;
  /** REST: the binary tensor data extension. */
  binary: boolean;
  model: string;
  modelVersion: string | null;
  /** Open loop at these request rates (requests/s), or closed loop at `concurrencies`. */
  requestRates: number[] | null;
  concurrencies: number[] | null;
  arrival: ArrivalKind;
  /** Dim 0 of inputs whose dim 0 is dynamic. */
  batch: number;
  shapes: Readonly<Record<string, readonly number[]>> | null;
  warmupMs: number;
  durationMs: number;
  percentiles: number[];
  /** Where the server's Prometheus metrics are (null: not scraped). */
  metricsUrl: string | null;
  /** Not written to the results file. */
  apiKey: string | null;
  timeoutMs: number;
  /** Most connections a REST client opens. */
  connections: number;
  /** Open loop: requests outstanding at once beyond which new ones are dropped (client_overload). */
  maxInFlight: number;
  seed: number;
  json: string | null;
}

/** `bench --url`'s flags as parsed from the command line, before they are checked. */
export interface RemoteBenchValues {
  url?: string;
  model?: string;
  'model-version'?: string;
  protocol?: string;
  binary?: boolean;
  'request-rate'?: string;
  concurrency?: string;
  arrival?: string;
  batch?: string;
  shape?: string[];
  warmup?: string;
  duration?: string;
  percentile?: string;
  'metrics-url'?: string;
  'api-key'?: string;
  timeout?: string;
  connections?: string;
  seed?: string;
  json?: string;
}

/** Local-only options that make no sense against a remote server. */
export const LOCAL_ONLY_OPTIONS = [
  'backend',
  'precision',
  'device',
  'iterations',
  'cuda-graph',
  'transfers',
  'batcher',
  'export-times',
  'trtexec',
] as const;

/** Remote-only options that make no sense without --url, in the order the CLI checks them. */
export const REMOTE_ONLY_OPTIONS = [
  'model',
  'model-version',
  'protocol',
  'binary',
  'request-rate',
  'arrival',
  'metrics-url',
  'api-key',
  'timeout',
  'connections',
  'seed',
] as const;

function parseRates(text: string): number[] {
  return text.split(',').map((item) => {
    const value = Number(item.trim());
    if (item.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_REQUEST_RATE)
      throw invalidValue(`request rates between 0 and ${MAX_REQUEST_RATE} per second (comma-separated)`, '--request-rate', item);
    return value;
  });
}

function parseUrl(text: string, protocol: Protocol): string {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : protocol === 'grpc' ? `grpc://${text}` : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw invalidValue('a server URL such as http://localhost:8000 (REST) or localhost:8001 (gRPC)', '--url', text);
  }
  const allowed = protocol === 'grpc' ? ['grpc:', 'http:'] : ['http:', 'https:'];
  if (!allowed.includes(url.protocol) || url.hostname === '')
    throw invalidValue(`a ${protocol === 'grpc' ? 'host:port or grpc://host:port' : 'http(s)://host:port'} URL`, '--url', text);
  return protocol === 'grpc'
    ? `${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${url.port || '8001'}`
    : url.origin;
}

/** Checks `bench --url`'s flags: typed errors for bad values, and for flags that only mean something to a local run. */
export function parseRemoteBenchOptions(
  values: RemoteBenchValues & Record<string, unknown>,
  positionals: readonly string[],
): RemoteBenchOptions {
  for (const name of LOCAL_ONLY_OPTIONS) {
    if (values[name] !== undefined)
      throw new ArgumentRangeError(
        `Expected no --${name} with --url (it applies to local runs; the server decides how it runs the model) but received ${JSON.stringify(values[name])}`,
      );
  }
  if (positionals.length > 0)
    throw new ArgumentRangeError(
      `Expected no model file with --url (name the served model with --model) but received ${positionals.map((p) => JSON.stringify(p)).join(', ')}`,
    );
  if (values.model === undefined || values.model === '')
    throw new ArgumentTypeError("Expected the served model's name for --model (with --url) but received undefined");
  const protocol = values.protocol === undefined ? 'rest' : expectOneOf(values.protocol, '--protocol', ['rest', 'grpc'] as const);
  if (values.binary && protocol === 'grpc')
    throw new ArgumentRangeError(
      'Expected --binary with --protocol rest only (gRPC always sends raw tensor contents) but received --protocol grpc',
    );
  if (values['request-rate'] !== undefined && values.concurrency !== undefined)
    throw new ArgumentRangeError('Expected --request-rate (open loop) or --concurrency (closed loop) but received both');
  const requestRates = values['request-rate'] === undefined ? null : parseRates(values['request-rate']);
  const concurrencies =
    requestRates === null
      ? values.concurrency === undefined
        ? [1]
        : parseIntegerList(values.concurrency, '--concurrency', MAX_CONCURRENCY)
      : null;
  if (requestRates === null && values.arrival !== undefined)
    throw new ArgumentRangeError('Expected --arrival with --request-rate only (closed-loop runs have no arrival schedule)');
  const url = parseUrl(values.url!, protocol);
  let metricsUrl: string | null = protocol === 'rest' ? `${url}/metrics` : null;
  if (values['metrics-url'] !== undefined) {
    if (values['metrics-url'] === 'off') metricsUrl = null;
    else {
      try {
        metricsUrl = new URL(values['metrics-url']).href;
      } catch {
        throw invalidValue('a URL such as http://localhost:8002/metrics, or off', '--metrics-url', values['metrics-url']);
      }
    }
  }
  return {
    url,
    protocol,
    binary: values.binary ?? false,
    model: values.model,
    modelVersion: values['model-version'] ?? null,
    requestRates,
    concurrencies,
    arrival:
      values.arrival === undefined ? 'poisson' : expectOneOf(values.arrival, '--arrival', ['poisson', 'constant'] as const),
    batch: values.batch === undefined ? 1 : parsePositiveInteger(values.batch, '--batch', 1 << 16),
    shapes: parseShapes(values.shape) ?? null,
    warmupMs: values.warmup === undefined ? 1000 : parseDuration(values.warmup, '--warmup', { maxMs: MAX_WARMUP_MS }),
    durationMs:
      values.duration === undefined
        ? 10_000
        : parseDuration(values.duration, '--duration', { minMs: 100, maxMs: MAX_DURATION_MS }),
    percentiles: values.percentile === undefined ? [50, ...DEFAULT_PERCENTILES] : parsePercentiles(values.percentile),
    metricsUrl,
    apiKey: values['api-key'] ?? process.env.TENSORRT_NODE_API_KEY ?? null,
    timeoutMs:
      values.timeout === undefined ? 30_000 : parseDuration(values.timeout, '--timeout', { minMs: 1, maxMs: MAX_DURATION_MS }),
    connections: values.connections === undefined ? 256 : parsePositiveInteger(values.connections, '--connections', 65_536),
    maxInFlight: 10_000,
    seed: values.seed === undefined ? 1 : parsePositiveInteger(values.seed, '--seed', 2 ** 31),
    json: values.json ?? null,
  };
}
