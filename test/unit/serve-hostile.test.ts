/**
 * The hostile clients that took down the old examples/http-service, each against InferenceServer:
 *
 * - connections that send nothing, or a body 1 byte at a time, are cut by the header and body
 *   timeouts; connections beyond the cap are closed on arrival, and the health endpoints answer again
 *   once the idle ones are gone (and on the metrics port all along);
 * - ten concurrent hostile JSON bodies are all refused with 400 while /v2/health/live keeps
 *   answering (they are bounded and parsed off the event loop); 1 MiB each here, 8 MiB each against
 *   the serve command in test/e2e/cli-serve.test.ts; the p99 health latency under that load is a
 *   benchmark (benchmarks/serve-hostile.ts), not an assertion;
 * - data nested 100,000 deep is a 400, on the inline and on the worker path;
 * - a drain under keep-alive load answers every request it accepted (200, or 503 with
 *   Connection: close) and resets none.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceServer } from '../../lib/serve/server.js';
import { silentLogger } from '../../lib/serve/logger.js';
import { fixtureRepository } from '../helpers/serve.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(url: string, method: string, path: string, body: Buffer | string | null, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const request = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method,
        path,
        agent: agent ?? false,
        headers: body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks).toString() }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}

/** Resolves when the server closes `socket`, with what it wrote before. */
function closedBy(socket: Socket): Promise<string> {
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve(received)));
}

function openSocket(url: string): Promise<Socket> {
  const target = new URL(url);
  const socket = connect({ host: target.hostname, port: Number(target.port) });
  return once(socket, 'connect').then(() => socket);
}

const mlpBody = (data: string) => `{"inputs":[{"name":"x","shape":[1,16],"datatype":"FP32","data":${data}}]}`;

describe('InferenceServer against hostile clients', () => {
  let server: InferenceServer;
  let base: string;

  beforeAll(async () => {
    server = await InferenceServer.start({
      repository: fixtureRepository(),
      only: ['mlp'],
      port: 0,
      metricsPort: 0,
      defaults: { backend: 'cpu' },
      limits: {
        headersTimeoutMs: 500,
        bodyTimeoutMs: 3000,
        keepAliveTimeoutMs: 500,
        maxConnections: 12,
        maxBodyBytes: 16 * 1024 * 1024,
      },
      parserWorkers: 2,
      logger: silentLogger,
    });
    base = server.urls.http!;
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('a connection that sends nothing, or only part of its headers, is cut by the header timeout (408)', async () => {
    const silent = await openSocket(base);
    const partial = await openSocket(base);
    partial.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n');
    const [nothing, half] = await Promise.all([closedBy(silent), closedBy(partial)]);
    expect(nothing === '' || nothing.startsWith('HTTP/1.1 408')).toBe(true);
    expect(half).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(server.metrics()).toMatch(/^tensorrt_node_server_refused_total\{reason="header-timeout"\} [1-9]/m);
  });

  it('a body trickling in a byte at a time gets 408 when the body deadline passes, and its connection is closed', async () => {
    const socket = await openSocket(base);
    const closed = closedBy(socket);
    socket.write(
      'POST /v2/models/mlp/infer HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n',
    );
    const trickle = setInterval(() => socket.writable && socket.write('['), 100);
    const received = await closed;
    clearInterval(trickle);
    expect(received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(received).toMatch(/\r\nconnection: close\r\n/i);
    expect(received).toMatch(/"error":"Expected the request body within 3000 ms but received \d+ bytes by then"/);
  });

  it('connections beyond the cap are closed on arrival; health answers again once the idle ones time out, and on the metrics port meanwhile', async () => {
    const idle = await Promise.all(Array.from({ length: 12 }, () => openSocket(base)));
    const idleClosed = idle.map(closedBy);
    const extra = await openSocket(base).catch(() => null);
    if (extra) expect(await closedBy(extra)).toBe('');
    // The liveness probe's port is not the one the flood fills.
    const onMetricsPort = await send(server.urls.metrics!.replace('/metrics', ''), 'GET', '/v2/health/live', null);
    expect(onMetricsPort.status).toBe(200);
    await Promise.all(idleClosed);
    expect((await send(base, 'GET', '/v2/health/live', null)).status).toBe(200);
    expect(server.metrics()).toMatch(/^tensorrt_node_server_refused_total\{reason="connection-cap"\} [1-9]/m);
  });

  // Ten 8 MiB bodies against `serve` in its own process: test/e2e/cli-serve.test.ts. Here, 1 MiB each.
  it('ten concurrent 1 MiB hostile JSON bodies are refused with 400 while /v2/health/live keeps answering', async () => {
    const size = 1024 * 1024;
    const emptyArrays = mlpBody(`[${'[],'.repeat(size / 3 - 40)}[]]`);
    // Numbers pass the bounds and must really be parsed (in a worker): 1 MiB of rows for a [1, 16] shape.
    const numbers = mlpBody(`[${'[0.125],'.repeat(size / 8 - 40)}[0.125]]`);
    const bodies = Array.from({ length: 10 }, (_, index) => Buffer.from(index % 2 === 0 ? emptyArrays : numbers));
    let hostileDone = 0;
    const hostile = bodies.map((body) => send(base, 'POST', '/v2/models/mlp/infer', body).finally(() => hostileDone++));
    const healthWhileInFlight: number[] = [];
    while (hostileDone < bodies.length) {
      const reply = await send(base, 'GET', '/v2/health/live', null);
      if (hostileDone < bodies.length) healthWhileInFlight.push(reply.status);
    }
    const replies = await Promise.all(hostile);
    for (const [index, reply] of replies.entries()) {
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body).error).toMatch(
        index % 2 === 0
          ? /^Expected at most 1024 empty JSON arrays or objects/
          : /^Expected 16 values \(the element count of its shape\) for inputs\[0\]\.data \("x"\) but received \d+$/,
      );
    }
    expect(healthWhileInFlight.length).toBeGreaterThan(0);
    expect(healthWhileInFlight.every((status) => status === 200)).toBe(true);
  });

  it('data nested 100,000 deep is a 400, not a 500, whether parsed inline or in a worker', async () => {
    const deep = mlpBody(`${'['.repeat(100_000)}0${']'.repeat(100_000)}`);
    const padded = `${deep.slice(0, -1)},"id":"${'p'.repeat(100_000)}"}`;
    for (const body of [deep, padded]) {
      const reply = await send(base, 'POST', '/v2/models/mlp/infer', body);
      expect(reply.status).toBe(400);
      expect(JSON.parse(reply.body)).toEqual({
        error: 'Expected JSON nested at most 64 deep for the request body but received deeper nesting at byte 124',
      });
    }
    expect((await send(base, 'POST', '/v2/models/mlp/infer', mlpBody(JSON.stringify(new Array(16).fill(1))))).status).toBe(200);
  });
});

describe('InferenceServer drain under keep-alive load', () => {
  it('close() answers every request it accepted (200, or 503 with Connection: close) and resets none', async () => {
    const server = await InferenceServer.start({
      repository: fixtureRepository(),
      only: ['mlp'],
      port: 0,
      defaults: { backend: 'cpu' },
      logger: silentLogger,
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const body = mlpBody(JSON.stringify(new Array(16).fill(0.5)));
    const outcomes: { status?: number; close?: boolean; error?: string }[] = [];
    let closing: ReturnType<InferenceServer['close']> | null = null;
    const worker = async () => {
      while (outcomes.length < 1000) {
        try {
          const reply = await send(server.urls.http!, 'POST', '/v2/models/mlp/infer', body, agent);
          outcomes.push({ status: reply.status, close: reply.headers.connection === 'close' });
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
          outcomes.push({ error: code });
          // A refused connection is a request never sent: the server is gone, as clients then find.
          if (code === 'ECONNREFUSED') return;
        }
        if (outcomes.length >= 200) closing ??= server.close();
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    const result = await (closing ?? server.close());
    agent.destroy();
    const errors = outcomes.filter((outcome) => outcome.error !== undefined).map((outcome) => outcome.error);
    expect(errors.filter((code) => code !== 'ECONNREFUSED')).toEqual([]);
    const answered = outcomes.filter((outcome) => outcome.status !== undefined);
    expect(answered.every((outcome) => outcome.status === 200 || (outcome.status === 503 && outcome.close))).toBe(true);
    expect(answered.filter((outcome) => outcome.close).length).toBeGreaterThan(0);
    expect(result).toEqual({ forcedConnections: 0 });
  });
});
