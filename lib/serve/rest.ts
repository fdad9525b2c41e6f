/**
 * The Open Inference Protocol's REST endpoints on node:http, hardened against hostile clients:
 *
 * - header, body and keep-alive timeouts and a connection cap (Node checks the first two every
 *   second here, not every 30 s as by default), so that idle or trickling connections cannot pile up;
 * - body size limits before reading, and large JSON parsed off the event loop (./body-parser.ts), so
 *   that /v2/health/* answers while megabytes of hostile JSON arrive;
 * - a drain that never resets a request it accepted: the listener closes (new connections are
 *   refused, which clients retry safely), requests on open connections are answered with
 *   `Connection: close`, idle connections are closed only once they have stayed idle, and nothing is
 *   released before every response is out. (Node's own server.close() closes idle keep-alive
 *   connections at once, which resets the requests that clients are writing to them at that moment.)
 *
 * Routes (versions optional in model paths): GET /v2/health/live, /v2/health/ready, /v2,
 * /v2/models/{m}[/versions/{v}], .../ready, POST .../infer, POST /v2/repository/index,
 * POST /v2/repository/models/{m}/load|unload (opt-in), GET /metrics.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import net from 'node:net';
import { encodeRestResponse } from '../protocol/response.js';
import type { ApiKey } from './auth.js';
import type { BodyParser } from './body-parser.js';
import { ServeError, badRequest, notFound, toServeError } from './errors.js';
import type { InferenceHandler } from './handler.js';
import { readBody } from './http-body.js';
import type { Logger } from './logger.js';
import type { ServerCounters } from './metrics.js';

export interface HttpLimits {
  /** Largest request body in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Time a client has to send a request's headers, from its first byte or its connection (Node answers 408 past it). */
  headersTimeoutMs: number;
  /** Time a client has to send a request's body, after its headers (408 past it). */
  bodyTimeoutMs: number;
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: number;
  /** Most open connections; more are closed as they arrive. */
  maxConnections: number;
}

export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxBodyBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1024,
});

/** The repository API's load and unload, present when model control is on. */
export interface ModelControl {
  load(name: string): Promise<void>;
  unload(name: string): Promise<void>;
}

export interface RestOptions {
  /** 'api': every route; 'metrics': health and /metrics only, without the API key (the metrics port). */
  role: 'api' | 'metrics';
  handler: InferenceHandler;
  parser: BodyParser;
  limits: HttpLimits;
  apiKey: ApiKey | null;
  control: ModelControl | null;
  /** The repository index (POST /v2/repository/index) is read-only: served even without model control. */
  index: () => unknown[];
  metrics: () => string;
  counters: ServerCounters;
  logger: Logger;
}

interface ConnectionState {
  /** Requests whose response has not finished. */
  active: number;
  /** performance.now() when it last became idle. */
  idleSince: number;
}

const JSON_TYPE = 'application/json';
const METRICS_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** During a drain, an idle connection is closed once it has been idle this long (a client about to send has sent by then). */
const DRAIN_IDLE_MS = 1000;

type Route =
  | { kind: 'live' | 'ready' | 'server' | 'metrics' | 'index' }
  | { kind: 'model' | 'model-ready' | 'infer'; model: string; version: string | undefined }
  | { kind: 'load' | 'unload'; model: string };

/** Matches a path to a route and its allowed method; null for unknown paths. */
function route(path: string): { route: Route; method: 'GET' | 'POST' } | null {
  switch (path) {
    case '/v2/health/live':
      return { route: { kind: 'live' }, method: 'GET' };
    case '/v2/health/ready':
      return { route: { kind: 'ready' }, method: 'GET' };
    case '/v2':
      return { route: { kind: 'server' }, method: 'GET' };
    case '/metrics':
      return { route: { kind: 'metrics' }, method: 'GET' };
    case '/v2/repository/index':
      return { route: { kind: 'index' }, method: 'POST' };
  }
  const segments = path.split('/');
  if (segments[1] !== 'v2') return null;
  const decode = (segment: string) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      throw badRequest(`Expected a percent-encoded path but received ${JSON.stringify(path.slice(0, 200))}`);
    }
  };
  // /v2/repository/models/{m}/load|unload
  if (
    segments[2] === 'repository' &&
    segments[3] === 'models' &&
    segments.length === 6 &&
    (segments[5] === 'load' || segments[5] === 'unload')
  ) {
    return { route: { kind: segments[5], model: decode(segments[4]!) }, method: 'POST' };
  }
  // /v2/models/{m}[/versions/{v}][/ready|/infer]
  if (segments[2] !== 'models' || segments.length < 4 || segments[3] === '') return null;
  const model = decode(segments[3]!);
  let rest = segments.slice(4);
  let version: string | undefined;
  if (rest[0] === 'versions') {
    if (rest.length < 2 || rest[1] === '') return null;
    version = decode(rest[1]!);
    rest = rest.slice(2);
  }
  if (rest.length === 0) return { route: { kind: 'model', model, version }, method: 'GET' };
  if (rest.length === 1 && rest[0] === 'ready') return { route: { kind: 'model-ready', model, version }, method: 'GET' };
  if (rest.length === 1 && rest[0] === 'infer') return { route: { kind: 'infer', model, version }, method: 'POST' };
  return null;
}

export class RestServer {
  readonly server: Server;
  readonly #options: RestOptions;
  readonly #connections = new Map<Socket, ConnectionState>();
  /** Responses not finished: when the drain starts, those not yet begun are told to close their connection. */
  readonly #responses = new Set<ServerResponse>();
  #draining = false;
  #nextRequest = 0;

  constructor(options: RestOptions) {
    this.#options = options;
    const { limits } = options;
    this.server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        // Node's backstop for the whole request; the body deadline itself is enforced by readBody.
        requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs + 1000,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
        noDelay: true,
      },
      (request, response) => this.handle(request, response),
    );
    this.server.maxConnections = limits.maxConnections;
    this.server.on('drop', () => this.#count(options.counters.refused, 'connection-cap'));
    this.server.on('connection', (socket: Socket) => this.#track(socket));
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => this.#clientError(error, socket));
  }

  get connections(): number {
    return this.#connections.size;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port, host }, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  #count(table: Record<string, number>, key: string): void {
    table[key] = (table[key] ?? 0) + 1;
  }

  #track(socket: Socket): void {
    const state: ConnectionState = { active: 0, idleSince: performance.now() };
    this.#connections.set(socket, state);
    socket.once('close', () => this.#connections.delete(socket));
  }

  /** Malformed requests and Node's own timeouts: answer when the socket can still take it, count, and close. */
  #clientError(error: NodeJS.ErrnoException, socket: Socket): void {
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    this.#count(this.#options.counters.refused, timeout ? 'header-timeout' : 'malformed-request');
    if (socket.writable && !(socket as Socket & { _httpMessage?: unknown })._httpMessage) {
      const status = timeout
        ? '408 Request Timeout'
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : '400 Bad Request';
      const body = JSON.stringify({ error: timeout ? 'The request did not arrive in time' : 'Malformed HTTP request' });
      socket.end(
        `HTTP/1.1 ${status}\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    } else {
      socket.destroy();
    }
  }

  /** The request listener: usable on its own by an application that runs its own node:http server. */
  handle(request: IncomingMessage, response: ServerResponse): void {
    const state = this.#connections.get(request.socket);
    if (state) state.active++;
    this.#responses.add(response);
    response.once('close', () => {
      this.#responses.delete(response);
      if (state) {
        state.active--;
        state.idleSince = performance.now();
      }
    });
    const requestId =
      (typeof request.headers['x-request-id'] === 'string' && /^[\w.:-]{1,128}$/.test(request.headers['x-request-id'])
        ? request.headers['x-request-id']
        : null) ?? `r${++this.#nextRequest}`;
    response.setHeader('x-request-id', requestId);
    // Accepted before the drain or after, every response of a draining server ends its connection.
    if (this.#draining) this.#closeAfter(response);
    this.#dispatch(request, response, requestId).catch((error: unknown) => this.#fail(response, error, requestId, request));
  }

  #closeAfter(response: ServerResponse): void {
    response.shouldKeepAlive = false;
    if (!response.headersSent) response.setHeader('connection', 'close');
  }

  async #dispatch(request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> {
    const { handler, role } = this.#options;
    const url = request.url ?? '/';
    const queryAt = url.indexOf('?');
    const matched = route(queryAt === -1 ? url : url.slice(0, queryAt));
    if (!matched || (role === 'metrics' && !['live', 'ready', 'metrics'].includes(matched.route.kind)))
      throw notFound(`No route ${request.method} ${url.slice(0, 200)}`);
    if (request.method !== matched.method && !(matched.method === 'GET' && request.method === 'HEAD')) {
      throw new ServeError(405, `Expected ${matched.method} for ${url.slice(0, 200)} but received ${request.method}`, {
        headers: { allow: matched.method },
      });
    }
    const target = matched.route;
    if (target.kind === 'live') return this.#json(response, 200, { live: handler.live() });
    if (target.kind === 'ready') {
      const ready = handler.ready();
      return this.#json(response, ready ? 200 : 503, { ready });
    }
    if (role === 'api' && this.#options.apiKey && !this.#options.apiKey.accepts(request.headers.authorization)) {
      throw new ServeError(401, 'Expected an API key (Authorization: Bearer <key>) but received none or a wrong one', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    }
    switch (target.kind) {
      case 'metrics':
        return this.#send(response, 200, METRICS_TYPE, this.#options.metrics());
      case 'server':
        return this.#json(response, 200, handler.serverMetadata());
      case 'model':
        return this.#json(response, 200, handler.modelMetadata(target.model, target.version));
      case 'model-ready': {
        const ready = handler.modelReady(target.model, target.version);
        return this.#json(response, ready ? 200 : 503, {
          name: target.model,
          ...(target.version ? { version: target.version } : {}),
          ready,
        });
      }
      case 'index':
        await this.#discardBody(request);
        return this.#json(response, 200, this.#options.index());
      case 'load':
      case 'unload': {
        await this.#discardBody(request);
        const control = this.#options.control;
        if (!control)
          throw new ServeError(
            403,
            'Model control is off: start the server with --model-control to load and unload models through the repository API',
            { code: 'ERR_MODEL_CONTROL' },
          );
        await (target.kind === 'load' ? control.load(target.model) : control.unload(target.model));
        this.#options.logger.info(`repository.${target.kind}`, { model: target.model, requestId });
        return this.#json(response, 200, {});
      }
      case 'infer':
        return this.#infer(request, response, target.model, target.version);
    }
  }

  /** Reads (and drops) a body a route does not use, within the limits. */
  async #discardBody(request: IncomingMessage): Promise<void> {
    await readBody(request, { maxBytes: 64 * 1024, timeoutMs: this.#options.limits.bodyTimeoutMs });
  }

  async #infer(request: IncomingMessage, response: ServerResponse, model: string, version: string | undefined): Promise<void> {
    const { limits, parser, handler } = this.#options;
    const headerText = request.headers['inference-header-content-length'];
    let headerLength: number | null = null;
    if (headerText !== undefined) {
      headerLength = Number(headerText);
      if (typeof headerText !== 'string' || !/^\d{1,15}$/.test(headerText.trim()))
        throw badRequest(
          `Expected a non-negative integer for the Inference-Header-Content-Length header but received ${JSON.stringify(headerText)}`,
        );
    }
    const body = await readBody(request, { maxBytes: limits.maxBodyBytes, timeoutMs: limits.bodyTimeoutMs });
    const decoded = await parser.parse(body, headerLength);
    // A client that hangs up cancels its request (a batcher drops its rows).
    const controller = new AbortController();
    const onClose = () => {
      if (!response.writableFinished) controller.abort(new Error('the client closed the connection'));
    };
    response.once('close', onClose);
    const result = await handler.infer(model, version, decoded, { signal: controller.signal });
    const encoded = encodeRestResponse(result);
    if (response.destroyed) return;
    response.statusCode = 200;
    response.setHeader('content-length', encoded.byteLength);
    if (encoded.headerLength === null) {
      response.setHeader('content-type', JSON_TYPE);
    } else {
      response.setHeader('content-type', 'application/octet-stream');
      response.setHeader('inference-header-content-length', encoded.headerLength);
    }
    this.#count(this.#options.counters.responses, '200');
    for (const chunk of encoded.chunks.slice(0, -1)) response.write(chunk);
    response.end(encoded.chunks.at(-1));
  }

  #json(response: ServerResponse, status: number, value: unknown): void {
    this.#send(response, status, JSON_TYPE, JSON.stringify(value));
  }

  #send(response: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
    if (response.headersSent || response.destroyed) return;
    this.#count(this.#options.counters.responses, String(status));
    response.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  #fail(response: ServerResponse, error: unknown, requestId: string, request: IncomingMessage): void {
    const served = toServeError(error, requestId);
    const { logger, counters } = this.#options;
    if (served.serverFault)
      logger.error('request.failed', {
        requestId,
        method: request.method,
        url: request.url?.slice(0, 200),
        status: served.status,
        error,
      });
    else
      logger.debug('request.refused', {
        requestId,
        url: request.url?.slice(0, 200),
        status: served.status,
        message: served.message,
      });
    if (served.status === 408) this.#count(counters.refused, 'body-timeout');
    if (served.status === 413) this.#count(counters.refused, 'body-too-large');
    // After a refused body the rest of it is not read: the connection cannot carry another request.
    if (served.status === 408 || served.status === 413) this.#closeAfter(response);
    if (served.status === 499) {
      // The client is gone; there is no one to answer.
      response.destroy();
      return;
    }
    this.#send(response, served.status, JSON_TYPE, JSON.stringify({ error: served.message }), served.headers);
  }

  /**
   * Stops accepting connections and waits until every open one has closed: busy ones after their
   * response (sent with Connection: close), idle ones once idle for DRAIN_IDLE_MS. Past `deadline`
   * (performance.now() ms) the rest are destroyed; resolves with how many were.
   */
  async drain(deadline: number): Promise<number> {
    this.#draining = true;
    for (const response of this.#responses) this.#closeAfter(response);
    // net.Server#close, not http.Server#close: the latter would also close idle keep-alive connections
    // at once. Its callback waits for every connection, which is what the loop below brings about.
    net.Server.prototype.close.call(this.server);
    while (this.#connections.size > 0 && performance.now() < deadline) {
      const now = performance.now();
      for (const [socket, state] of this.#connections) {
        if (state.active === 0 && now - state.idleSince >= DRAIN_IDLE_MS) socket.end();
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const forced = this.#connections.size;
    for (const socket of this.#connections.keys()) socket.destroy();
    this.server.close();
    return forced;
  }
}
