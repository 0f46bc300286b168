import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const contractsDir = join(repoRoot, 'contracts');
// The buf CLI ships inside its npm package; its bin is a Node script that runs the binary.
const bufBin = createRequire(import.meta.url).resolve('@bufbuild/buf/bin/buf');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

void describe('the contracts', () => {
  void test('the committed gen/ is exactly what `npm run generate` makes from proto/ (regenerate and commit when this fails)', async (t) => {
    const out = await mkdtemp(join(tmpdir(), 'baton-gen-'));
    t.after(() => rm(out, { recursive: true, force: true }));
    // The same command as the npm script, into a scratch folder instead of contracts/.
    await run(process.execPath, [bufBin, 'generate', 'contracts', '--template', 'contracts/buf.gen.yaml', '--output', out], {
      cwd: repoRoot,
      // buf finds protoc-gen-es on the PATH, in node_modules/.bin.
      env: { ...process.env, PATH: [join(repoRoot, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter) },
    });
    const fresh = await filesUnder(join(out, 'gen'));
    const committed = await filesUnder(join(contractsDir, 'gen'));
    assert.ok(fresh.length >= 4, `generation produced ${fresh.length} files`);
    assert.deepEqual(committed, fresh, 'the same files');
    for (const file of fresh) {
      const [want, have] = await Promise.all([readFile(join(out, 'gen', file), 'utf8'), readFile(join(contractsDir, 'gen', file), 'utf8')]);
      assert.equal(have, want, `contracts/gen/${file} is stale: run npm run generate`);
    }
  });

  void test('no .proto lives outside contracts/proto: one source, never copied', async () => {
    const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.proto'], { cwd: repoRoot });
    const protos = stdout.split('\n').filter(Boolean);
    assert.ok(protos.length >= 4, `found ${protos.length} .proto files`);
    assert.deepEqual(protos.filter((path) => !path.startsWith('contracts/proto/')), []);
  });
});
