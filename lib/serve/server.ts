/**
 * InferenceServer: a model repository served over the Open Inference Protocol (REST and gRPC), with
 * Prometheus metrics, an API key, hostile-client limits and a graceful drain. `tensorrt-node serve`
 * is this class behind a command line; an application embeds it the same way:
 *
 *   const server = await InferenceServer.start({ models: [{ name: 'model', path: 'model.onnx' }] });
 *   server.closeOnSignals();   // SIGTERM/SIGINT: drain, then exit 0
 *
 * Production defaults: it listens on 127.0.0.1 unless told otherwise, every request has a deadline
 * (30 s), bodies are bounded (64 MiB, and JSON by nesting and element counts), and a slow or idle
 * client is cut off (10 s for headers, 30 s for a body, 5 s idle between requests).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, TensorRTNodeError } from '../core/errors.js';
import { ApiKey } from './auth.js';
import { BodyParser } from './body-parser.js';
import { GpuSampler } from './gpu-metrics.js';
import { GrpcServer } from './grpc-server.js';
import { InferenceHandler } from './handler.js';
import { createJsonLogger, type Logger } from './logger.js';
import { formatServerMetrics, type ServerCounters } from './metrics.js';
import { ModelRegistry } from './models.js';
import { validateServeOptions, type CheckedServeOptions, type ServeOptions } from './options.js';
import { checkModelName, listRepository, readRepositoryModel, type ModelSource } from './repository.js';
import { RestServer, type ModelControl } from './rest.js';

/** Where a started {@link InferenceServer} listens. */
export interface ServerUrls {
  /** http://host:port of the REST API (null without an HTTP listener). */
  http: string | null;
  /** host:port of the gRPC API (null without gRPC). */
  grpc: string | null;
  /** http://host:port/metrics on the metrics port (null without one). */
  metrics: string | null;
}

/** How {@link InferenceServer.close}'s drain ended. */
export interface CloseResult {
  /** Connections still open at the drain deadline, cut (0 for a clean drain). */
  forcedConnections: number;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function fileSource(file: { name: string; path: string; config?: ModelSource['config'] }): ModelSource {
  checkModelName(file.name, 'options.models[].name');
  const format = /\.(plan|engine|trt)$/i.test(file.path) ? 'engine' : 'onnx';
  return { name: file.name, folder: null, config: file.config ?? {}, versions: [{ version: 1, path: file.path, format }] };
}

/**
 * A model repository served over the Open Inference Protocol (KServe v2): REST with the binary tensor
 * data extension and gRPC, Triton-compatible metrics, health and readiness. `close()` drains: it
 * stops accepting, finishes the requests in flight and then disposes the sessions.
 */
export class InferenceServer {
  readonly urls: ServerUrls;
  readonly #options: CheckedServeOptions;
  readonly #logger: Logger;
  readonly #registry: ModelRegistry;
  readonly #handler: InferenceHandler;
  readonly #parser: BodyParser;
  readonly #rest: RestServer;
  readonly #metricsServer: RestServer | null;
  readonly #grpc: GrpcServer | null;
  readonly #sampler: GpuSampler;
  readonly #counters: ServerCounters;
  #closing: Promise<CloseResult> | null = null;

  private constructor(parts: {
    options: CheckedServeOptions;
    logger: Logger;
    registry: ModelRegistry;
    handler: InferenceHandler;
    parser: BodyParser;
    rest: RestServer;
    metricsServer: RestServer | null;
    grpc: GrpcServer | null;
    sampler: GpuSampler;
    counters: ServerCounters;
    urls: ServerUrls;
  }) {
    this.#options = parts.options;
    this.#logger = parts.logger;
    this.#registry = parts.registry;
    this.#handler = parts.handler;
    this.#parser = parts.parser;
    this.#rest = parts.rest;
    this.#metricsServer = parts.metricsServer;
    this.#grpc = parts.grpc;
    this.#sampler = parts.sampler;
    this.#counters = parts.counters;
    this.urls = parts.urls;
  }

  /** Loads every model (failing if one fails), then listens. */
  static async start(options: ServeOptions): Promise<InferenceServer> {
    const opts = validateServeOptions(options);
    const logger = opts.logger ?? createJsonLogger(process.stdout, opts.logLevel);
    const sources = await InferenceServer.#sources(opts);
    const registry = new ModelRegistry(opts.defaults, logger);
    const cleanup: (() => Promise<unknown>)[] = [() => registry.close()];
    const undo = async () => {
      for (const step of cleanup.reverse()) await step().catch(() => undefined);
    };
    try {
      for (const source of sources) await registry.load(source);
      const handler = new InferenceHandler(registry);
      const parser = new BodyParser({ limits: opts.limits, ...(opts.parserWorkers ? { workers: opts.parserWorkers } : {}) });
      cleanup.push(() => parser.close());
      const counters: ServerCounters = { connections: {}, responses: {}, refused: {} };
      const sampler = new GpuSampler();
      const apiKey = opts.apiKey === null ? null : new ApiKey(opts.apiKey);
      const control = opts.modelControl ? InferenceServer.#control(opts, registry, sources) : null;
      // /metrics reads the server object, which exists once everything below is listening.
      const built: { server?: InferenceServer } = {};
      const metrics = () => built.server?.metrics() ?? '';
      const restOptions = {
        handler,
        parser,
        limits: opts.limits,
        apiKey,
        control,
        index: () => registry.index(),
        metrics,
        counters,
        logger,
      };
      const rest = new RestServer({ ...restOptions, role: 'api' });
      const metricsServer =
        opts.metricsPort === null ? null : new RestServer({ ...restOptions, role: 'metrics', apiKey: null, control: null });
      const grpc =
        opts.grpcPort === null
          ? null
          : await GrpcServer.create({
              handler,
              apiKey,
              maxMessageBytes: opts.limits.maxBodyBytes,
              maxTensorElements: opts.limits.maxTensorElements,
              logger,
            });
      const host = urlHost(opts.host);
      const listen = async <T>(what: string, port: number, start: () => Promise<T>): Promise<T> => {
        try {
          return await start();
        } catch (error) {
          throw new TensorRTNodeError(
            ErrorCode.IO,
            `Cannot listen for ${what} on ${host}:${port}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
            { cause: error },
          );
        }
      };
      const urls: ServerUrls = { http: null, grpc: null, metrics: null };
      if (opts.port !== null) {
        const address = await listen('HTTP', opts.port, () => rest.listen(opts.port!, opts.host));
        cleanup.push(() => rest.drain(performance.now()));
        urls.http = `http://${host}:${address.port}`;
      }
      if (grpc) {
        const bound = await listen('gRPC', opts.grpcPort!, () => grpc.listen(opts.host, opts.grpcPort!));
        cleanup.push(() => grpc.drain(performance.now()));
        urls.grpc = `${host}:${bound}`;
      }
      if (metricsServer) {
        const address = await listen('metrics', opts.metricsPort!, () => metricsServer.listen(opts.metricsPort!, opts.host));
        cleanup.push(() => metricsServer.drain(performance.now()));
        urls.metrics = `http://${host}:${address.port}/metrics`;
      }
      sampler.start();
      const server = new InferenceServer({
        options: opts,
        logger,
        registry,
        handler,
        parser,
        rest,
        metricsServer,
        grpc,
        sampler,
        counters,
        urls,
      });
      built.server = server;
      logger.info('server.started', {
        ...urls,
        models: registry.index(),
        apiKey: apiKey !== null,
        modelControl: opts.modelControl,
      });
      return server;
    } catch (error) {
      await undo();
      throw error;
    }
  }

  static async #sources(opts: CheckedServeOptions): Promise<ModelSource[]> {
    const sources = opts.models.map(fileSource);
    if (opts.repository !== null) {
      const available = listRepository(opts.repository);
      const wanted = opts.only ?? available;
      for (const name of wanted) {
        if (!available.includes(name)) {
          throw new TensorRTNodeError(
            ErrorCode.INVALID_ARGUMENT,
            `Expected a model of the repository for --model but received "${name}" (the repository has ${available.map((entry) => `"${entry}"`).join(', ') || 'no models'})`,
          );
        }
        sources.push(await readRepositoryModel(opts.repository, name));
      }
    }
    const names = sources.map((source) => source.name);
    const duplicate = names.find((name, index) => names.indexOf(name) !== index);
    if (duplicate)
      throw new TensorRTNodeError(ErrorCode.INVALID_ARGUMENT, `Expected each model name once but received "${duplicate}" twice`);
    if (sources.length === 0)
      throw new TensorRTNodeError(
        ErrorCode.INVALID_ARGUMENT,
        `Expected at least one model in the repository ${opts.repository} but received none (models are <model>/<version>/model.onnx|model.plan)`,
      );
    return sources;
  }

  /** The repository API: load reads the model from the repository again (a reload when it is served), unload stops it. */
  static #control(opts: CheckedServeOptions, registry: ModelRegistry, files: ModelSource[]): ModelControl {
    return {
      load: async (name) => {
        checkModelName(name);
        const file = files.find((source) => source.folder === null && source.name === name);
        if (file) return registry.load(file);
        if (opts.repository === null || !listRepository(opts.repository).includes(name)) {
          throw new TensorRTNodeError(ErrorCode.INVALID_ARGUMENT, `Expected a model of the repository but received "${name}"`);
        }
        return registry.load(await readRepositoryModel(opts.repository, name));
      },
      unload: (name) => registry.unload(name),
    };
  }

  /** Whether the server takes requests (every model loaded, not draining): /v2/health/ready. */
  get ready(): boolean {
    return this.#handler.ready();
  }

  /** The REST request listener, for an application's own node:http server (its limits and drain are then the application's). */
  handle(request: IncomingMessage, response: ServerResponse): void {
    this.#rest.handle(request, response);
  }

  /** The Prometheus text served at /metrics. */
  metrics(): string {
    this.#counters.connections.api = this.#rest.connections;
    if (this.#metricsServer) this.#counters.connections.metrics = this.#metricsServer.connections;
    return formatServerMetrics(
      this.#registry.served().map((model) => ({ model: model.name, version: model.version, snapshot: model.metrics() })),
      this.#sampler.latest(),
      this.#counters,
    );
  }

  /**
   * Graceful shutdown: report not ready, keep serving for drainDelayMs, refuse new connections,
   * answer every request already accepted (responses carry Connection: close), then release the
   * models. Idempotent.
   */
  close(): Promise<CloseResult> {
    this.#closing ??= (async () => {
      const opts = this.#options;
      this.#handler.startDraining();
      this.#logger.info('server.draining', { delayMs: opts.drainDelayMs, timeoutMs: opts.drainTimeoutMs });
      if (opts.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.drainDelayMs));
      const deadline = performance.now() + opts.drainTimeoutMs;
      const [forced] = await Promise.all([this.#rest.drain(deadline), this.#grpc?.drain(deadline)]);
      await this.#registry.close();
      await this.#parser.close();
      this.#sampler.stop();
      if (this.#metricsServer) await this.#metricsServer.drain(performance.now() + 1000);
      this.#logger[forced > 0 ? 'warn' : 'info']('server.stopped', { forcedConnections: forced });
      return { forcedConnections: forced };
    })();
    return this.#closing;
  }

  /**
   * SIGTERM and SIGINT drain the server (close()); resolves with the exit code: 0 for a clean drain,
   * 1 when connections had to be cut or the drain failed. With `exit` (default true) the process
   * then exits with it. A second signal exits at once.
   */
  closeOnSignals({ exit = true }: { exit?: boolean } = {}): Promise<number> {
    return new Promise((resolve) => {
      const onSignal = (signal: NodeJS.Signals) => {
        for (const other of ['SIGTERM', 'SIGINT'] as const) process.off(other, onSignal);
        this.#logger.info('server.signal', { signal });
        for (const other of ['SIGTERM', 'SIGINT'] as const) process.once(other, () => process.exit(1));
        this.close()
          .then(
            ({ forcedConnections }) => (forcedConnections > 0 ? 1 : 0),
            (error: unknown) => {
              this.#logger.error('server.close_failed', { error });
              return 1;
            },
          )
          .then((code) => {
            resolve(code);
            if (exit) process.exit(code);
          });
      };
      for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, onSignal);
    });
  }
}
