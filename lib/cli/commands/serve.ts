/**
 * `tensorrt-node serve <repository>`: InferenceServer (lib/serve) behind a command line. Logs are
 * JSON lines on stdout; SIGTERM or SIGINT drains (accepted requests are answered) and exits 0, or 1
 * when the drain had to cut connections.
 */
import { readFileSync } from 'node:fs';
import { ArgumentTypeError, ErrorCode, TensorRTNodeError } from '../../core/errors.js';
import { parseByteSize, parseDuration } from '../../core/units.js';
import { expectOneOf, invalidValue } from '../../core/validate.js';
import { logLevels, type LogLevel } from '../../serve/logger.js';
import type { ServeOptions } from '../../serve/options.js';
import type { Command } from '../command.js';

interface ServeValues {
  model?: string[];
  host?: string;
  port?: string;
  'grpc-port'?: string;
  'metrics-port'?: string;
  backend?: string;
  'cache-dir'?: string;
  contexts?: string;
  'max-queue'?: string;
  timeout?: string;
  'api-key'?: string;
  'api-key-file'?: string;
  'model-control'?: boolean;
  'max-body'?: string;
  'header-timeout'?: string;
  'body-timeout'?: string;
  'keep-alive-timeout'?: string;
  'max-connections'?: string;
  'drain-delay'?: string;
  'drain-timeout'?: string;
  'log-level'?: string;
}

const HELP = `  <repository>               a model repository: <model>/<version>/model.onnx|model.plan, optional <model>/config.json|yaml
  --model name               serve only this model of the repository (repeatable; default all)
  --host 127.0.0.1           interface to listen on (0.0.0.0 to serve other hosts, e.g. in a container)
  --port 8000                HTTP port of the REST API (KServe v2 / Open Inference Protocol)
  --grpc-port 8001|off       gRPC port (inference.GRPCInferenceService)
  --metrics-port 8002|off    a port with /metrics and the health endpoints only, without the API key
  --backend auto|tensorrt|cpu  default backend of models whose config names none (default auto)
  --cache-dir dir            engine cache (engines are built once per GPU and TensorRT version, then reused)
  --contexts N               default concurrent executions per model (default 1)
  --max-queue N              default requests waiting per model before 503 (default 1024)
  --timeout 30s              default deadline of a request, queue time included (504 past it)
  --api-key key              require Authorization: Bearer <key> on everything but health
  --api-key-file path        the same, read from a file (or set TENSORRT_NODE_API_KEY)
  --model-control            allow POST /v2/repository/models/{m}/load|unload (load again = reload)
  --max-body 64MiB           largest request body (413 beyond)
  --header-timeout 10s       time a client has to send its request headers (408 past it)
  --body-timeout 30s         time a client has to send a request body after its headers (408 past it)
  --keep-alive-timeout 5s    how long an idle keep-alive connection stays open
  --max-connections 1024     open connections at most (more are closed on arrival)
  --drain-delay 0s           on SIGTERM, keep serving (reporting not ready) this long first
  --drain-timeout 30s        on SIGTERM, longest wait for accepted requests before cutting connections
  --log-level info           debug, info, warn or error (JSON lines on stdout)

Health: GET /v2/health/live, /v2/health/ready. Metrics: GET /metrics (tensorrt_node_* and Triton's nv_* names).`;

function parsePort(text: string | undefined, name: string, fallback: number | null): number | null {
  if (text === undefined) return fallback;
  if (text === 'off') return null;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value > 65535) throw invalidValue('a port between 0 and 65535, or off', name, text);
  return value;
}

function parseCount(text: string | undefined, name: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) throw invalidValue(`an integer >= ${min}`, name, text);
  return value;
}

function apiKeyFrom(values: ServeValues): string | undefined {
  if (values['api-key'] !== undefined && values['api-key-file'] !== undefined)
    throw new ArgumentTypeError('Expected --api-key or --api-key-file but received both');
  if (values['api-key-file'] !== undefined) {
    let key: string;
    try {
      key = readFileSync(values['api-key-file'], 'utf8').trim();
    } catch (error) {
      throw new TensorRTNodeError(
        ErrorCode.IO,
        `Cannot read --api-key-file ${values['api-key-file']}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    if (key === '') throw invalidValue('a file holding a non-empty key', '--api-key-file', values['api-key-file']);
    return key;
  }
  const key = values['api-key'] ?? process.env.TENSORRT_NODE_API_KEY;
  return key === undefined || key === '' ? undefined : key;
}

/** The command line as InferenceServer.start options (exported for tests). */
export function serveOptionsFrom(values: ServeValues, positionals: string[]): ServeOptions {
  if (positionals.length !== 1)
    throw new ArgumentTypeError(
      `Expected one model repository folder for repository but received ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(', ')}`,
    );
  const duration = (text: string | undefined, name: string) => (text === undefined ? undefined : parseDuration(text, name));
  const limits: NonNullable<ServeOptions['limits']> = {};
  if (values['max-body'] !== undefined) limits.maxBodyBytes = parseByteSize(values['max-body'], '--max-body');
  if (values['header-timeout'] !== undefined)
    limits.headersTimeoutMs = Math.max(1, duration(values['header-timeout'], '--header-timeout')!);
  if (values['body-timeout'] !== undefined)
    limits.bodyTimeoutMs = Math.max(1, duration(values['body-timeout'], '--body-timeout')!);
  if (values['keep-alive-timeout'] !== undefined)
    limits.keepAliveTimeoutMs = Math.max(1, duration(values['keep-alive-timeout'], '--keep-alive-timeout')!);
  const maxConnections = parseCount(values['max-connections'], '--max-connections', 1);
  if (maxConnections !== undefined) limits.maxConnections = maxConnections;
  const defaults: NonNullable<ServeOptions['defaults']> = {};
  if (values.backend !== undefined)
    defaults.backend = expectOneOf(values.backend, '--backend', ['auto', 'tensorrt', 'cpu'] as const);
  if (values['cache-dir'] !== undefined) defaults.cacheDir = values['cache-dir'];
  const contexts = parseCount(values.contexts, '--contexts', 1);
  if (contexts !== undefined) defaults.contexts = contexts;
  const maxQueue = parseCount(values['max-queue'], '--max-queue', 0);
  if (maxQueue !== undefined) defaults.maxQueue = maxQueue;
  if (values.timeout !== undefined) defaults.timeoutMs = duration(values.timeout, '--timeout')!;
  const options: ServeOptions = {
    repository: positionals[0]!,
    host: values.host ?? '127.0.0.1',
    port: parsePort(values.port, '--port', 8000),
    grpcPort: parsePort(values['grpc-port'], '--grpc-port', 8001),
    metricsPort: parsePort(values['metrics-port'], '--metrics-port', 8002),
    modelControl: values['model-control'] ?? false,
    defaults,
    limits,
    logLevel:
      values['log-level'] === undefined ? 'info' : (expectOneOf(values['log-level'], '--log-level', logLevels) as LogLevel),
  };
  if (options.port === null) throw invalidValue('a port between 0 and 65535', '--port', 'off');
  if (values.model !== undefined) options.only = values.model;
  const apiKey = apiKeyFrom(values);
  if (apiKey !== undefined) options.apiKey = apiKey;
  const drainDelay = duration(values['drain-delay'], '--drain-delay');
  if (drainDelay !== undefined) options.drainDelayMs = drainDelay;
  const drainTimeout = duration(values['drain-timeout'], '--drain-timeout');
  if (drainTimeout !== undefined) options.drainTimeoutMs = drainTimeout;
  return options;
}

export const serveCommand: Command<ServeValues> = {
  name: 'serve',
  usage:
    'serve <repository> [--model name] [--host 127.0.0.1] [--port 8000] [--grpc-port 8001|off] [--metrics-port 8002|off] [--backend auto|tensorrt|cpu] [--api-key-file path] [--model-control] [...]',
  help: HELP,
  positionals: true,
  options: {
    model: { type: 'string', multiple: true },
    host: { type: 'string' },
    port: { type: 'string' },
    'grpc-port': { type: 'string' },
    'metrics-port': { type: 'string' },
    backend: { type: 'string' },
    'cache-dir': { type: 'string' },
    contexts: { type: 'string' },
    'max-queue': { type: 'string' },
    timeout: { type: 'string' },
    'api-key': { type: 'string' },
    'api-key-file': { type: 'string' },
    'model-control': { type: 'boolean' },
    'max-body': { type: 'string' },
    'header-timeout': { type: 'string' },
    'body-timeout': { type: 'string' },
    'keep-alive-timeout': { type: 'string' },
    'max-connections': { type: 'string' },
    'drain-delay': { type: 'string' },
    'drain-timeout': { type: 'string' },
    'log-level': { type: 'string' },
  },
  async run(values, positionals) {
    const options = serveOptionsFrom(values, positionals);
    const { InferenceServer } = await import('../../serve/server.js');
    const server = await InferenceServer.start(options);
    const code = await server.closeOnSignals({ exit: false });
    // Everything the server opened is closed; should an embedding process keep something else
    // alive, the exit still happens (an unreferenced timer fires only if the process is still up).
    setTimeout(() => process.exit(code), 2000).unref();
    return code;
  },
};
