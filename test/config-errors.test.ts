import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitCodeConfig } from '@baton/kit/service';
import { testIdentity } from '@baton/kit/testing';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Runs a service's main.ts with exactly this environment and collects its output. */
function runMain(service: string, environment: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`services/${service}/src/main.ts`], {
      cwd: repoRoot,
      env: environment,
      stdio: ['ignore', 'pipe', 'pipe'],
      // A config error ends the process at once; if it started a server instead, do not wait for ever.
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

function problemVariables(output: string): string[] {
  const fatal = output.split('\n').filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level: string; problems?: Array<{ variable: string }> })
    .find((line) => line.level === 'fatal');
  assert.ok(fatal?.problems, `no fatal line with the problems in:\n${output}`);
  return fatal.problems.map((p) => p.variable).sort();
}

const cleanEnvironment = { PATH: process.env.PATH ?? '' };

void test('orders without DATABASE_URL, USERS_URLS, INVENTORY_URLS and its identity exits 78 and names all five', async () => {
  const { code, output } = await runMain('orders', cleanEnvironment);
  assert.equal(code, exitCodeConfig, output);
  assert.deepEqual(problemVariables(output), ['DATABASE_URL', 'INVENTORY_URLS', 'SERVICE_KEY', 'SERVICE_TRUST', 'USERS_URLS']);
  assert.match(output, /invalid configuration: .*DATABASE_URL/);
  assert.match(output, /invalid configuration: .*USERS_URLS/);
  assert.match(output, /invalid configuration: .*INVENTORY_URLS/);
});

void test('orders with a bad PORT as well names all six, and not the bad value', async () => {
  const { code, output } = await runMain('orders', { ...cleanEnvironment, PORT: 'abc' });
  assert.equal(code, exitCodeConfig, output);
  assert.deepEqual(problemVariables(output), ['DATABASE_URL', 'INVENTORY_URLS', 'PORT', 'SERVICE_KEY', 'SERVICE_TRUST', 'USERS_URLS']);
  assert.match(output, /expected a TCP port number/);
  assert.ok(!output.includes('abc'), 'the bad value is not echoed');
});

void test('inventory without SERVICE_KEY, with a bad one, or with a SERVICE_KEY_FILE it cannot read exits 78 naming it, never the key', async () => {
  const { SERVICE_KEY, SERVICE_TRUST } = testIdentity.env('inventory');
  const base = { ...cleanEnvironment, DATABASE_URL: 'postgres://nobody@127.0.0.1:9/none', USERS_URLS: 'http://127.0.0.1:9', SERVICE_TRUST };

  // A public key where the private one belongs: refused, and not echoed. The three run side by side.
  const publicOnly = JSON.stringify(testIdentity.keyPair('inventory').publicJwk);
  const [missing, bad, unreadable] = await Promise.all([
    runMain('inventory', base),
    runMain('inventory', { ...base, SERVICE_KEY: publicOnly }),
    runMain('inventory', { ...base, SERVICE_KEY_FILE: '/nonexistent/service-key' }),
  ]);
  assert.equal(missing.code, exitCodeConfig, missing.output);
  assert.deepEqual(problemVariables(missing.output), ['SERVICE_KEY']);
  assert.match(missing.output, /"variable":"SERVICE_KEY","problem":"required, not set"/);

  assert.equal(bad.code, exitCodeConfig, bad.output);
  assert.deepEqual(problemVariables(bad.output), ['SERVICE_KEY']);
  assert.match(bad.output, /expected a private Ed25519 JWK with a kid/);
  assert.ok(!bad.output.includes(testIdentity.keyPair('inventory').publicJwk.x), 'the value is not echoed');

  assert.equal(unreadable.code, exitCodeConfig, unreadable.output);
  assert.deepEqual(problemVariables(unreadable.output), ['SERVICE_KEY_FILE']);
  assert.ok(!unreadable.output.includes(SERVICE_KEY), 'no key in the output');
});
