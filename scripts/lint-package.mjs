#!/usr/bin/env node
// `npm run lint:package [-- <package folder>]`: checks the package as npm would publish it, with
// publint (package.json fields against the packed files) and @arethetypeswrong/cli (how TypeScript
// resolves each entry point: ".", "./onnx", "./precision", "./bench"). Both read one tarball.
// It checks the dist/ that is there and does not build it: `npm test` builds before it lints.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { projectRoot } from './lib/process.mjs';

const packageDir = resolve(process.argv[2] ?? projectRoot);
const require = createRequire(join(projectRoot, 'package.json'));

// attw's rules, chosen for an ESM-only package whose engines field says node >= 20.19:
// - the node16 profile leaves out node10 resolution (TypeScript's `moduleResolution: node`): it
//   ignores "exports", so it cannot see the subpaths at all, and TypeScript has deprecated it;
// - cjs-resolves-to-esm is ignored because require() of an ES module is exactly what Node.js
//   >= 20.19 supports (test/e2e/packaging.test.ts requires every entry point), and TypeScript types
//   it from `module: node20`/`nodenext` on. Every other check still runs for CommonJS importers
//   too, so a missing or untyped entry point fails there as well.
const attwRules = ['--profile', 'node16', '--ignore-rules', 'cjs-resolves-to-esm'];

function fail(message) {
  console.error(`lint:package: ${message}`);
  process.exit(1);
}

const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
if (!existsSync(join(packageDir, manifest.main ?? 'dist/index.js')))
  fail(`${manifest.main} is missing: run \`npm run build:ts\` first`);

const packDir = mkdtempSync(join(tmpdir(), 'tensorrt-node-lint-package-'));
try {
  // --ignore-scripts: `prepare` would rebuild dist/ (half a minute); this checks the one that is there.
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], {
    cwd: packageDir,
    encoding: 'utf8',
  });
  if (pack.status !== 0) fail(`npm pack failed:\n${pack.stderr}`);
  const [{ filename }] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[')));
  const tarball = join(packDir, filename);

  // strict: warnings fail too; suggestions are printed and fail as well, so that none accumulate.
  const tarballBytes = readFileSync(tarball);
  const { messages, pkg } = await publint({
    pack: { tarball: tarballBytes.buffer.slice(tarballBytes.byteOffset, tarballBytes.byteOffset + tarballBytes.byteLength) },
    level: 'suggestion',
    strict: true,
  });
  // publint bolds key names whenever picocolors sees a terminal, FORCE_COLOR or a CI variable; like attw
  // below, a log or a pipe gets plain text, so that messages read (and match) the same everywhere.
  const plain = (text) => (process.stderr.isTTY ? text : stripVTControlCharacters(text));
  for (const message of messages) console.error(`publint ${message.type}: ${plain(formatMessage(message, pkg))}`);

  const attwCli = join(require.resolve('@arethetypeswrong/cli/package.json'), '..', 'dist', 'index.js');
  const attw = spawnSync(process.execPath, [attwCli, tarball, ...attwRules, '--format', 'table-flipped'], {
    encoding: 'utf8',
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  if (attw.status !== 0) console.error(`${attw.stdout}${attw.stderr}`);

  if (messages.length > 0 || attw.status !== 0)
    fail(`${messages.length} publint message(s); attw ${attw.status === 0 ? 'clean' : 'found problems (table above)'}`);
  const entries = Object.keys(manifest.exports ?? { '.': manifest.main }).filter((entry) => entry !== './package.json');
  console.log(`lint:package: publint and attw (${attwRules.join(' ')}) clean for ${entries.join(', ')}`);
} finally {
  rmSync(packDir, { recursive: true, force: true });
}
