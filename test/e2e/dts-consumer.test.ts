/**
 * The published .d.ts files bring Node's types themselves: each entry file (dist/index.d.ts and the
 * onnx, precision and bench subpaths) starts with `/// <reference types="node" preserve="true" />`,
 * so a consumer that lists no global types (`"types": []`, TypeScript 7's default) type-checks with
 * no error inside our declarations. The consumer is compiled against dist/ through the package's
 * "exports", with skipLibCheck off so that our .d.ts files are checked too.
 */
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

const entries = ['dist/index.d.ts', 'dist/onnx/index.d.ts', 'dist/precision/index.d.ts', 'dist/bench/index.d.ts'];

/** A consumer project: tensorrt-node and @types/node installed (as links), nothing in "types". */
function consumer(source: string): string {
  const project = mkdtempSync(join(tmpdir(), 'dts-consumer-'));
  mkdirSync(join(project, 'node_modules', '@types'), { recursive: true });
  symlinkSync(packageRoot, join(project, 'node_modules', 'tensorrt-node'), 'dir');
  const typesNode = dirname(createRequire(join(packageRoot, 'package.json')).resolve('@types/node/package.json'));
  symlinkSync(typesNode, join(project, 'node_modules', '@types', 'node'), 'dir');
  writeFileSync(join(project, 'package.json'), '{ "name": "consumer", "private": true, "type": "module" }\n');
  writeFileSync(join(project, 'index.ts'), source);
  return project;
}

function typeCheck(project: string): string[] {
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2023,
    lib: ['lib.es2023.d.ts'],
    strict: true,
    types: [],
    noEmit: true,
    skipLibCheck: false,
  };
  const program = ts.createProgram([join(project, 'index.ts')], options);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName.replace(packageRoot, '<tensorrt-node>')}: ` : '';
    return `${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
  });
}

const usesEveryEntry = `
import { InferenceSession, capabilities, isTensorRTNodeError, type TensorLike } from 'tensorrt-node';
import { inspect, readModel } from 'tensorrt-node/onnx';
import { calibrate } from 'tensorrt-node/precision';
import { runSweep } from 'tensorrt-node/bench';

export async function main(tensor: TensorLike): Promise<void> {
  const session = await InferenceSession.create('model.onnx', { signature: { inputs: { x: 'float32' }, outputs: { y: 'float32' } } });
  const { y } = await session.run({ x: tensor });
  const floats: Float32Array = y.data;
  console.log(floats.length, (await capabilities()).backends, isTensorRTNodeError(null), inspect, readModel, calibrate, runSweep);
  await session.dispose();
}
`;

describe('the published .d.ts files with "types": []', () => {
  it("every entry .d.ts references Node's types itself", () => {
    for (const entry of entries)
      expect(readFileSync(join(packageRoot, entry), 'utf8').split('\n')[0], entry).toBe(
        '/// <reference types="node" preserve="true" />',
      );
  });

  it("a consumer of every entry type-checks with no error, ours or anyone's", () => {
    expect(typeCheck(consumer(usesEveryEntry))).toEqual([]);
  });

  it("and the check is not vacuous: a consumer's own mistake against our types is reported", () => {
    const errors = typeCheck(
      consumer(
        `${usesEveryEntry}\nexport const wrong: Float64Array = (await InferenceSession.create('m.onnx', { signature: { inputs: {}, outputs: { y: 'float32' } } }).then((s) => s.run({}))).y.data;\n`,
      ),
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/\/index\.ts: Type 'Float32Array(<ArrayBufferLike>)?' is not assignable to type 'Float64Array/);
  });
});
