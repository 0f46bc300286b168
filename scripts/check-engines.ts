// Checks every installed package's `engines.node` against the Node that runs the project (24,
// from the `node` dev dependency), and fails the install when one does not support it.
//
// Why: npm checks engines against the Node that runs npm itself, the system's (20 here), so a
// first `npm install` printed 27 EBADENGINE warnings about a Node the project never uses, and
// would have printed none about the Node it does use. .npmrc turns npm's warnings off
// (`loglevel=error`); this script, run by the root `postinstall` with the project's Node on the
// path, makes the check that matters. Usage: node scripts/check-engines.ts [package-lock.json]
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import semver from 'semver';

interface LockedPackage {
  version?: string;
  engines?: { node?: string };
}

export interface EngineMismatch {
  name: string;
  version: string;
  required: string;
}

/** The installed packages of a lockfile whose `engines.node` does not admit `nodeVersion`. */
export function engineMismatches(lockfilePath: string, nodeVersion: string): EngineMismatch[] {
  const root = dirname(lockfilePath);
  const lock = JSON.parse(readFileSync(lockfilePath, 'utf8')) as { packages?: Record<string, LockedPackage> };
  const mismatches: EngineMismatch[] = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    const required = entry.engines?.node;
    // Packages for other platforms (optional, not installed) and ranges npm itself would not read are skipped.
    if (path === '' || required === undefined || !existsSync(join(root, path)) || semver.validRange(required) === null) continue;
    if (!semver.satisfies(nodeVersion, required, { includePrerelease: true })) {
      mismatches.push({ name: path.replace(/^.*node_modules\//, ''), version: entry.version ?? '?', required });
    }
  }
  return mismatches;
}

if (import.meta.main) {
  const lockfilePath = resolve(process.argv[2] ?? 'package-lock.json');
  const mismatches = engineMismatches(lockfilePath, process.version);
  if (mismatches.length > 0) {
    process.stderr.write(`These packages do not support Node ${process.version}, which runs Baton:\n${
      mismatches.map((m) => `  ${m.name}@${m.version} needs node ${m.required}\n`).join('')}`);
    process.exit(1);
  }
}
