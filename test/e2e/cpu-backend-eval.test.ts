import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/addon/loader.js';

// Workers inherit execArgv: a worker started from a file must not get `--input-type`, or every
// `node --input-type=module -e` script that uses the cpu backend fails to load a model.
describe('the cpu backend from `node --input-type=module -e`', () => {
  it('loads and runs a model', () => {
    const model = join(packageRoot, 'test', 'fixtures', 'models', 'mlp.onnx');
    const script = `import { createCpuBackend } from './dist/index.js';
      const backend = await createCpuBackend(${JSON.stringify(model)});
      const { y } = await backend.run({ x: { dtype: 'float32', shape: [1, 16], data: new Float32Array(16) } });
      await backend.dispose();
      console.log(JSON.stringify(y.shape));`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: packageRoot, encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('[1,8]\n');
  });
});
