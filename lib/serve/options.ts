/** InferenceServer.start's options: the type, the defaults and the checks (one message template). */
import { ArgumentTypeError } from '../core/errors.js';
import {
  describeValue,
  expectBoolean,
  expectInteger,
  expectNumber,
  expectOneOf,
  expectOptions,
  expectString,
  rejectUnknownOptions,
} from '../core/validate.js';
import { DEFAULT_JSON_LIMITS } from '../protocol/json-limits.js';
import type { BodyLimits } from '../protocol/body.js';
import { logLevels, type LogLevel, type Logger } from './logger.js';
import type { ModelConfig } from './model-config.js';
import type { ModelDefaults } from './models.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from './rest.js';

/** A model given as a file rather than found in a repository; served as version 1. */
export interface ServedFile {
  /** The model's name in URLs and metrics. */
  name: string;
  /** An .onnx model or a TensorRT engine (.plan, .engine). */
  path: string;
  /** As a repository's config.json would give it. */
  config?: ModelConfig;
}

/** What one client may ask of the server (body sizes, header and idle timeouts, connections): requests past them get their HTTP or gRPC status, the server keeps serving. */
export interface ServerLimits extends HttpLimits, BodyLimits {}

/** Options of {@link InferenceServer.start}: what to serve, where, and under which limits. Unknown options are refused. */
export interface ServeOptions {
  /** A model repository folder (see ./repository.ts for its layout). */
  repository?: string;
  /** Models given as files, served as version 1 (with or instead of a repository). */
  models?: ServedFile[];
  /** Only these models of the repository (default: all of them). */
  only?: string[];
  /** Interface to listen on (default 127.0.0.1: pass 0.0.0.0 to serve other hosts). */
  host?: string;
  /** HTTP port (default 8000; 0: any free port; null: no listener, use server.handle()). */
  port?: number | null;
  /** gRPC port (default null: no gRPC; 0: any free port). */
  grpcPort?: number | null;
  /** A second HTTP port with /metrics and the health endpoints only, without the API key (default null). */
  metricsPort?: number | null;
  /** Requests (all but health) must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Load, unload and reload models through POST /v2/repository/models/{m}/load|unload (default false). */
  modelControl?: boolean;
  /** Defaults under each model's config: backend, cacheDir, contexts, maxQueue, timeoutMs (default 30000), device. */
  defaults?: ModelDefaults;
  limits?: Partial<ServerLimits>;
  /** Workers that parse large JSON bodies (default: cores - 1, between 1 and 4). */
  parserWorkers?: number;
  /** On close(), keep serving (reporting not ready) this long before refusing connections, so load balancers notice first (default 0). */
  drainDelayMs?: number;
  /** On close(), longest wait for accepted requests before their connections are cut (default 30000). */
  drainTimeoutMs?: number;
  /** Structured logs (default: JSON lines on stdout at logLevel). */
  logger?: Logger;
  logLevel?: LogLevel;
}

export interface CheckedServeOptions {
  repository: string | null;
  models: ServedFile[];
  only: string[] | null;
  host: string;
  port: number | null;
  grpcPort: number | null;
  metricsPort: number | null;
  apiKey: string | null;
  modelControl: boolean;
  defaults: ModelDefaults;
  limits: ServerLimits;
  parserWorkers: number | undefined;
  drainDelayMs: number;
  drainTimeoutMs: number;
  logger: Logger | undefined;
  logLevel: LogLevel;
}

export const serveOptionNames = [
  'repository',
  'models',
  'only',
  'host',
  'port',
  'grpcPort',
  'metricsPort',
  'apiKey',
  'modelControl',
  'defaults',
  'limits',
  'parserWorkers',
  'drainDelayMs',
  'drainTimeoutMs',
  'logger',
  'logLevel',
] as const;
const limitNames = [
  'maxBodyBytes',
  'headersTimeoutMs',
  'bodyTimeoutMs',
  'keepAliveTimeoutMs',
  'maxConnections',
  'maxDepth',
  'maxElements',
  'maxEmptyContainers',
  'maxTensorElements',
] as const;
const defaultNames = ['backend', 'cacheDir', 'contexts', 'maxQueue', 'timeoutMs', 'device'] as const;

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  ...DEFAULT_HTTP_LIMITS,
  ...DEFAULT_JSON_LIMITS,
  maxTensorElements: 1 << 28,
});
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

function port(value: unknown, name: string, fallback: number | null): number | null {
  if (value === undefined) return fallback;
  if (value === null) return null;
  return expectInteger(value, name, { min: 0, max: 65535 });
}

export function validateServeOptions(options: unknown): CheckedServeOptions {
  const opts = expectOptions<ServeOptions>(options);
  rejectUnknownOptions(opts, serveOptionNames);
  const models = opts.models === undefined ? [] : opts.models;
  if (!Array.isArray(models))
    throw new ArgumentTypeError(`Expected an array of { name, path } for options.models but received ${describeValue(models)}`);
  for (const [index, model] of models.entries()) {
    const entry = expectOptions<ServedFile>(model, `options.models[${index}]`);
    rejectUnknownOptions(entry, ['name', 'path', 'config'], `options.models[${index}]`);
    expectString(entry.name, `options.models[${index}].name`);
    expectString(entry.path, `options.models[${index}].path`);
  }
  const repository = opts.repository === undefined ? null : expectString(opts.repository, 'options.repository');
  if (repository === null && models.length === 0)
    throw new ArgumentTypeError('Expected options.repository or options.models (the models to serve) but received neither');
  const only = opts.only === undefined ? null : opts.only;
  if (only !== null && (!Array.isArray(only) || only.some((name) => typeof name !== 'string')))
    throw new ArgumentTypeError(`Expected an array of model names for options.only but received ${describeValue(only)}`);
  const limits = expectOptions<ServerLimits>(opts.limits, 'options.limits');
  rejectUnknownOptions(limits, limitNames, 'options.limits');
  const checkedLimits = { ...DEFAULT_LIMITS };
  for (const name of limitNames) {
    if (limits[name] !== undefined)
      checkedLimits[name] = expectInteger(limits[name], `options.limits.${name}`, { min: name === 'maxEmptyContainers' ? 0 : 1 });
  }
  const defaults = expectOptions<ModelDefaults>(opts.defaults, 'options.defaults');
  rejectUnknownOptions(defaults, defaultNames, 'options.defaults');
  if (defaults.backend !== undefined)
    expectOneOf(defaults.backend, 'options.defaults.backend', ['auto', 'tensorrt', 'cpu'] as const);
  const apiKey = opts.apiKey === undefined ? null : expectString(opts.apiKey, 'options.apiKey');
  return {
    repository,
    models,
    only,
    host: opts.host === undefined ? '127.0.0.1' : expectString(opts.host, 'options.host'),
    port: port(opts.port, 'options.port', 8000),
    grpcPort: port(opts.grpcPort, 'options.grpcPort', null),
    metricsPort: port(opts.metricsPort, 'options.metricsPort', null),
    apiKey,
    modelControl: opts.modelControl === undefined ? false : expectBoolean(opts.modelControl, 'options.modelControl'),
    defaults: { timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS, ...defaults },
    limits: checkedLimits,
    parserWorkers:
      opts.parserWorkers === undefined
        ? undefined
        : expectInteger(opts.parserWorkers, 'options.parserWorkers', { min: 1, max: 64 }),
    drainDelayMs: opts.drainDelayMs === undefined ? 0 : expectNumber(opts.drainDelayMs, 'options.drainDelayMs', { min: 0 }),
    drainTimeoutMs:
      opts.drainTimeoutMs === undefined ? 30_000 : expectNumber(opts.drainTimeoutMs, 'options.drainTimeoutMs', { min: 0 }),
    logger: opts.logger,
    logLevel: opts.logLevel === undefined ? 'info' : expectOneOf(opts.logLevel, 'options.logLevel', logLevels),
  };
}
