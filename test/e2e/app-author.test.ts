/**
 * The README's first hour, as an app author lives it: a fresh app, the package installed from the
 * packed tarball with the README's install line, then the README's ESM service, its CommonJS script
 * and its CLI tour, each run exactly as the README writes it. The snippets are read from README.md
 * (the block after each `<!-- tested: NAME -->` marker), so a README edit that breaks one fails here.
 *
 * What differs from a user's machine, and why: `tensorrt-node` in the install line is the packed
 * tarball (the package is not published from here); npm prefers its cache (no network but the
 * registry); TENSORRT_NODE_SKIP_BUILD skips the source build of the addon (no prebuilt binary is in
 * a development tarball; test/e2e/packaging.test.ts covers that build), so on a host without a GPU
 * the session runs where `auto` puts it anyway, on the cpu backend. Needs `npm run build:ts` first.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';
import { createCpuBackend } from '../../lib/backends/cpu/backend.js';
import { serializeModel } from '../../lib/onnx/model.js';
import { chainModel } from '../helpers/onnx-fixtures.js';
import { userEnv } from '../helpers/npm.js';

/** The fenced block after `<!-- tested: NAME -->` in README.md. */
export function readmeBlock(name: string, readme = readFileSync(join(packageRoot, 'README.md'), 'utf8')): string {
  const marker = readme.indexOf(`<!-- tested: ${name} -->`);
  if (marker < 0) throw new Error(`README.md has no <!-- tested: ${name} --> marker`);
  const block = /^```\w*\n([\s\S]*?)^```$/m.exec(readme.slice(marker));
  if (!block) throw new Error(`README.md has no code block after <!-- tested: ${name} -->`);
  return block[1]!;
}

/** A shell block's commands: one a line, comments dropped. */
function commands(block: string): string[] {
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

const work = mkdtempSync(join(tmpdir(), 'tensorrt-node-app-author-'));
// npm, npx and the scripts they start run on this test's Node (CI runs it on several Node lines).
const env = userEnv({
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
  npm_config_prefer_offline: 'true',
  TENSORRT_NODE_SKIP_BUILD: '1',
});

function shell(line: string, cwd: string, timeout = 300_000): SpawnSyncReturns<string> {
  return spawnSync('bash', ['-c', line], { cwd, env, encoding: 'utf8', timeout });
}

let tarball = '';

function freshApp(name: string): string {
  const app = join(work, name);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name, version: '1.0.0', private: true }, null, 2)}\n`);
  // The README's model: 256 features in, 256 scores out, any batch size.
  writeFileSync(join(app, 'scorer.onnx'), serializeModel(chainModel({ width: 256, layers: 2 })));
  for (const line of commands(readmeBlock('install'))) {
    const asRun = line.replace(/\bnpm install tensorrt-node\b/, `npm install ${tarball}`);
    const result = shell(asRun, app);
    expect(result.status, `${asRun}\n${result.stdout}\n${result.stderr}`).toBe(0);
    if (line.includes('doctor')) expect(result.stdout).toMatch(/cpu/);
  }
  return app;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

async function post(port: number, body: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body });
  return { status: response.status, text: await response.text() };
}

describe("the README's app-author path, in fresh apps installed from the packed tarball", () => {
  beforeAll(() => {
    expect(existsSync(join(packageRoot, 'dist', 'index.js')), 'run `npm run build:ts` first').toBe(true);
    const packed = spawnSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: packageRoot,
      env,
      encoding: 'utf8',
    });
    expect(packed.status, packed.stderr).toBe(0);
    tarball = join(work, (JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string }[])[0]!.filename);
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the README snippets are where the test looks for them', () => {
    expect(commands(readmeBlock('install'))[0]).toBe('ONNXRUNTIME_NODE_INSTALL=skip npm install tensorrt-node onnxruntime-node');
    expect(readmeBlock('service.mjs')).toContain("from 'tensorrt-node'");
    expect(readmeBlock('score.cjs')).toContain("require('tensorrt-node')");
    expect(commands(readmeBlock('cli-tour')).every((line) => line.startsWith('npx tensorrt-node '))).toBe(true);
    expect(() => readmeBlock('nowhere')).toThrow('README.md has no <!-- tested: nowhere --> marker');
  });

  it('ESM: the service answers scores for good input, 400 for bad input; then the CLI tour runs', async () => {
    const app = freshApp('esm-app');
    writeFileSync(join(app, 'service.mjs'), readmeBlock('service.mjs'));
    const port = await freePort();
    const service = spawn(process.execPath, ['service.mjs'], {
      cwd: app,
      env: { ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    service.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      const features = Array.from({ length: 256 }, (_, index) => Math.sin(index));
      let answer: { status: number; text: string } | null = null;
      for (let attempt = 0; attempt < 600 && answer === null; attempt++) {
        if (service.exitCode !== null) throw new Error(`service.mjs exited (${service.exitCode}): ${stderr}`);
        answer = await post(port, JSON.stringify({ features })).catch(async () => {
          await new Promise((resolveWait) => setTimeout(resolveWait, 100)); // still loading the model
          return null;
        });
      }
      expect(answer?.status, answer?.text).toBe(200);
      const reference = await createCpuBackend(join(app, 'scorer.onnx'));
      const { y } = await reference.run({ x: { dtype: 'float32', shape: [1, 256], data: Float32Array.from(features) } });
      await reference.dispose();
      expect(JSON.parse(answer!.text)).toEqual({ scores: Array.from(y!.data as Float32Array) });

      const notJson = await post(port, 'features=1,2,3');
      expect(notJson.status).toBe(400);
      expect(notJson.text).toMatch(/^SyntaxError: /);
      const tooFew = await post(port, JSON.stringify({ features: [1, 2, 3] }));
      expect(tooFew.status).toBe(400);
      expect(tooFew.text).toMatch(/ERR_SHAPE|shape/);
    } finally {
      service.kill('SIGTERM');
    }

    for (const line of commands(readmeBlock('cli-tour'))) {
      const result = shell(line, app);
      expect(result.status, `${line}\n${result.stdout}\n${result.stderr}`).toBe(0);
    }
    for (const output of ['bench.json', 'report.html', 'scorer.fp16.onnx'])
      expect(existsSync(join(app, output)), output).toBe(true);
    expect(readFileSync(join(app, 'report.html'), 'utf8')).toContain('<svg ');
  });

  it('CommonJS: require() loads the package and the script scores on the backend auto picked', () => {
    const app = freshApp('cjs-app');
    writeFileSync(join(app, 'score.cjs'), readmeBlock('score.cjs'));
    const result = spawnSync(process.execPath, ['score.cjs'], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('ERR_REQUIRE_ESM');
    expect(result.stdout).toMatch(/^(cpu|tensorrt): 1x256 scores \(auto: .+\)\n$/);
  });
});
