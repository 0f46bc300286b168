// `npm run chaos:broken [-- --build NAME]`: each broken build of broken-builds.ts made in a copy
// of the working tree, its scenario run there by `npm run chaos`, and its verdict read: the
// checks the build breaks must fail. Exits 1 when one did not (a verdict that cannot fail).
import { execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { repoRoot } from '@baton/runner';
import { brokenBuilds, type BrokenBuild } from './broken-builds.ts';
import type { ChaosRun } from './report-html.ts';

const run = promisify(execFile);

/** The working tree's files (tracked, and new ones git does not ignore), copied as they are now. */
async function copyTree(to: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  const files = stdout.split('\0').filter((file) => file.length > 0);
  for (const file of files) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    // A file deleted but not yet staged is listed and absent: nothing to copy.
    await cp(join(repoRoot, file), join(to, file), { preserveTimestamps: true }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
}

/**
 * The copy's node_modules: every package a link to the one installed here, but the workspace's
 * own (`@baton/*`), which link to the copy's folders, so the broken code is what runs.
 */
async function linkNodeModules(to: string): Promise<void> {
  const from = join(repoRoot, 'node_modules');
  await mkdir(join(to, 'node_modules', '@baton'), { recursive: true });
  for (const entry of await readdir(from)) {
    if (entry === '@baton' || entry === '.cache') continue;
    await symlink(join(from, entry), join(to, 'node_modules', entry));
  }
  for (const entry of await readdir(join(from, '@baton'))) {
    // npm's links are relative (`../../packages/kit`): the same link in the copy points into it.
    await symlink(await readlink(join(from, '@baton', entry)), join(to, 'node_modules', '@baton', entry));
  }
}

async function applyEdit(to: string, broken: BrokenBuild): Promise<void> {
  const path = join(to, broken.edit.file);
  const text = await readFile(path, 'utf8');
  if (text.split(broken.edit.find).length !== 2) throw new Error(`${broken.name}: the text to break is not in ${broken.edit.file} exactly once`);
  await writeFile(path, text.replace(broken.edit.find, broken.edit.replace));
}

interface Outcome { broken: BrokenBuild; failed: string[]; shown: boolean; problem?: string }

async function prove(broken: BrokenBuild, say: (text: string) => void): Promise<Outcome> {
  const copy = await mkdtemp(join(tmpdir(), `baton-broken-${broken.name}-`));
  try {
    await copyTree(copy);
    await linkNodeModules(copy);
    await applyEdit(copy, broken);
    const log = join(tmpdir(), `baton-broken-${broken.name}.log`);
    say(`${broken.name}: ${broken.what}; running ${broken.scenario} on it (its output in ${log})`);
    const out = createWriteStream(log);
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, ['chaos/main.ts', '--short', '--scenario', broken.scenario], {
        cwd: copy, env: { ...process.env, BATON_VAR_DIR: join(copy, 'var') }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.pipe(out, { end: false });
      child.stderr.pipe(out, { end: false });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    out.end();
    const runs = await readdir(join(copy, 'var', 'chaos')).catch(() => [] as string[]);
    const newest = runs.toSorted().at(-1);
    if (newest === undefined) return { broken, failed: [], shown: false, problem: `npm run chaos exited ${code} with no report` };
    const report = JSON.parse(await readFile(join(copy, 'var', 'chaos', newest, 'report.json'), 'utf8')) as ChaosRun;
    const scenario = report.scenarios[0];
    if (scenario === undefined || !('verdict' in scenario)) return { broken, failed: [], shown: false, problem: scenario !== undefined && 'error' in scenario ? `could not run: ${scenario.error}` : 'no verdict' };
    const failed = scenario.verdict.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
    const failedNames = scenario.verdict.checks.filter((c) => !c.passed).map((c) => c.name);
    return { broken, failed, shown: broken.fails.every((name) => failedNames.includes(name)) };
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { build: { type: 'string', multiple: true } }, strict: true });
  const named = values.build ?? [];
  const unknown = named.filter((name) => !brokenBuilds.some((b) => b.name === name));
  if (unknown.length > 0) {
    console.error(`npm run chaos:broken: no broken build ${unknown.join(', ')}; known: ${brokenBuilds.map((b) => b.name).join(', ')}`);
    return 2;
  }
  const chosen = named.length === 0 ? brokenBuilds : brokenBuilds.filter((b) => named.includes(b.name));
  const startedAt = Date.now();
  const say = (text: string) => console.log(`[${((Date.now() - startedAt) / 1_000).toFixed(1).padStart(6)} s] ${text}`);
  const outcomes: Outcome[] = [];
  for (const broken of chosen) outcomes.push(await prove(broken, say));
  console.log('\n| broken build | scenario | must fail | what failed | verdict |');
  console.log('|---|---|---|---|---|');
  for (const o of outcomes) {
    console.log(`| ${o.broken.name} | ${o.broken.scenario} | ${o.broken.fails.join(', ')} | ${o.problem ?? (o.failed.join('; ') || 'nothing')} | ${o.shown ? 'failed, as it must' : 'NOT SHOWN'} |`);
  }
  return outcomes.every((o) => o.shown) ? 0 : 1;
}

process.exit(await main().catch((error: unknown) => {
  console.error(`npm run chaos:broken: ${(error as Error).message}`);
  return 1;
}));
