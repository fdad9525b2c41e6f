import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

// The package's entry points (package.json "exports") and the lib/ file each one is built from.
const entries = {
  'tensorrt-node': 'lib/index.ts',
  'tensorrt-node/onnx': 'lib/onnx/index.ts',
  'tensorrt-node/precision': 'lib/precision/index.ts',
  'tensorrt-node/bench': 'lib/bench/index.ts',
} as const;

async function runtimeExports(file: string): Promise<Record<string, unknown>> {
  return (await import(join(packageRoot, file))) as Record<string, unknown>;
}

/** Every name an entry file exports, types included, read from its syntax (no type checking needed). */
function declaredExports(file: string): { names: string[]; starExports: string[] } {
  const source = ts.createSourceFile(file, readFileSync(join(packageRoot, file), 'utf8'), ts.ScriptTarget.Latest);
  const names: string[] = [];
  const starExports: string[] = [];
  for (const statement of source.statements) {
    if (ts.isExportDeclaration(statement)) {
      if (!statement.exportClause) starExports.push(statement.getText(source));
      else if (ts.isNamedExports(statement.exportClause))
        names.push(...statement.exportClause.elements.map((element) => element.name.text));
      else starExports.push(statement.getText(source)); // export * as name
    } else if (
      ts.canHaveModifiers(statement) &&
      ts.getModifiers(statement)?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)
    ) {
      if (ts.isVariableStatement(statement))
        names.push(...statement.declarationList.declarations.map((declaration) => declaration.name.getText(source)));
      else if ('name' in statement && statement.name) names.push((statement.name as ts.Identifier).text);
    }
  }
  return { names, starExports };
}

describe('every public class that owns native work or workers supports `await using`', () => {
  it.each(['Engine', 'ExecutionContext', 'Tensor', 'CudaStream', 'CudaEvent', 'InferenceSession', 'Batcher', 'Binding'])(
    '%s has Symbol.asyncDispose next to dispose()',
    async (name) => {
      const api = await runtimeExports(entries['tensorrt-node']);
      const publicClass = api[name] as { prototype: object } | undefined;
      expect(typeof publicClass, `${name} is exported by tensorrt-node`).toBe('function');
      expect(typeof Reflect.get(publicClass!.prototype, 'dispose')).toBe('function');
      expect(typeof Reflect.get(publicClass!.prototype, Symbol.asyncDispose)).toBe('function');
    },
  );

  it.each(Object.entries(entries))('%s: no exported class has dispose() without Symbol.asyncDispose', async (_entry, file) => {
    const api = await runtimeExports(file);
    const classes = Object.entries(api).filter(
      ([, value]) =>
        typeof value === 'function' &&
        typeof Reflect.get((value as { prototype?: object }).prototype ?? {}, 'dispose') === 'function',
    );
    const syncOnly = classes
      .filter(([, value]) => typeof Reflect.get((value as { prototype: object }).prototype, Symbol.asyncDispose) !== 'function')
      .map(([name]) => name);
    expect(syncOnly).toEqual([]);
  });
});

// Helpers that the layers share among themselves: exporting one would make it API that can never change.
const internalHelpers = [
  'createError',
  'withCallerStack',
  'viewTypedArray',
  'checkTypedArray',
  'allocateTypedArray',
  'typedArrayConstructor',
  'matchesDType',
  'isDType',
  'elementCount',
  'invalidType',
  'invalidValue',
  'describeValue',
  'withArticle',
  'expectString',
  'expectBoolean',
  'expectNumber',
  'expectInteger',
  'expectPositiveInteger',
  'expectOneOf',
  'expectOptions',
  'rejectUnknownOptions',
  'editDistance',
  'closestMatch',
  'disposedError',
  'abortError',
  'loadAddon',
  'tryLoadAddon',
  'loadAddonFrom',
  'addonCandidates',
  'prebuiltVariants',
  'hostFacts',
  'packageRoot',
  'rankVariants',
  'parseVariantFile',
];

describe('the entry points export the public API only', () => {
  it.each(Object.entries(entries))('%s (%s) exports no internal helper at run time', async (_entry, file) => {
    const api = await runtimeExports(file);
    expect(Object.keys(api).filter((name) => internalHelpers.includes(name))).toEqual([]);
  });

  it.each(Object.entries(entries))(
    '%s (%s) lists its exports name by name: no `export *`, no native surface types',
    (_entry, file) => {
      const { names, starExports } = declaredExports(file);
      expect(starExports).toEqual([]);
      expect(names.filter((name) => internalHelpers.includes(name))).toEqual([]);
      // The addon's objects are wrapped by the public classes and never handed out (ARCHITECTURE.md).
      const nativeSurface = declaredExports('lib/addon/types.ts').names.filter((name) => name.startsWith('Native'));
      expect(nativeSurface).toContain('NativeAddon');
      expect(names.filter((name) => nativeSurface.includes(name) || name === 'LoadedAddon')).toEqual([]);
      expect(new Set(names).size, 'a name exported twice').toBe(names.length);
    },
  );

  it('the syntax reader sees what the module exports at run time (so the type-level check reads the right names)', async () => {
    const { names } = declaredExports(entries['tensorrt-node']);
    const runtime = Object.keys(await runtimeExports(entries['tensorrt-node']));
    expect(runtime.filter((name) => !names.includes(name))).toEqual([]);
    expect(names).toContain('Engine');
    expect(names).toContain('TensorMap'); // a type: only the syntax sees it
  });
});
