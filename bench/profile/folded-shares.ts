// Where a service's CPU went by code, from the folded stacks checkout-profile.ts writes with
// PROFILE_FOLDED (a line a stack: `service;frame;frame;... samples`, each frame `name location`).
// A sample is charged to the innermost frame that is code of ours or of a package, with Node's
// own frames under it (node:internal, a socket write, a listener added) counted in: so a
// function's share is what it costs, the runtime work it asks for included. Prints, for one
// service, the share of each such function whose location contains the pattern; with `--packages`
// instead of a pattern, the share of each package (a kit folder, a service, an npm package), and
// of the samples with no such frame at all: V8's `(program)` (native work outside JavaScript, as
// HTTP/2's) and `(garbage collector)`, and Node's own callbacks with nothing of ours under them.
//
//   PROFILE_FOLDED=/tmp/folded.txt node bench/profile/checkout-profile.ts
//   node bench/profile/folded-shares.ts /tmp/folded.txt orders packages/kit/src     # the kit's own functions in orders
//   node bench/profile/folded-shares.ts /tmp/folded.txt inventory @connectrpc       # Connect's
//   node bench/profile/folded-shares.ts /tmp/folded.txt orders --packages           # by package
import { readFileSync } from 'node:fs';

const [file, service, pattern = '', topArgument = '20'] = process.argv.slice(2);
if (file === undefined || service === undefined) {
  console.error('usage: node bench/profile/folded-shares.ts <folded file> <service> [location pattern] [how many]');
  process.exit(2);
}

/** A frame of code that is not Node's own: its location is a file of ours or of a package. */
function isCode(frame: string): boolean {
  // V8's own entries, `(program)` and `(garbage collector)`, have no location.
  if (frame.startsWith('(')) return false;
  const space = frame.indexOf(' ');
  return space > 0 && !frame.startsWith('node:', space + 1);
}

const byPackage = pattern === '--packages';
const noCode = '(Node\'s own frames only)';

/** Whose code a frame is: `kit/<folder>`, `services/<name>`, `bench`, or the npm package's name. */
function packageOf(frame: string): string {
  const location = frame.slice(frame.indexOf(' ') + 1);
  const kit = /^packages\/kit\/src\/([^/:]+)\//.exec(location);
  if (kit !== null) return `kit/${kit[1]}`;
  const ours = /^(services\/[^/]+|packages\/[^/]+|bench|test)\//.exec(location);
  if (ours !== null) return ours[1]!;
  return /^(@[^/]+\/[^/]+|[^/]+)\//.exec(location)?.[1] ?? location;
}

const shares = new Map<string, number>();
let total = 0;
for (const line of readFileSync(file, 'utf8').split('\n')) {
  const space = line.lastIndexOf(' ');
  if (space < 0) continue;
  const frames = line.slice(0, space).split(';');
  if (frames[0] !== service) continue;
  const samples = Number(line.slice(space + 1));
  total += samples;
  const charged = frames.slice(1).findLast(isCode);
  const leaf = frames.at(-1) ?? '';
  const uncharged = leaf.startsWith('(') ? leaf : noCode;
  const key = byPackage ? (charged === undefined ? uncharged : packageOf(charged)) : charged !== undefined && charged.includes(pattern) ? charged : undefined;
  if (key !== undefined) shares.set(key, (shares.get(key) ?? 0) + samples);
}
if (total === 0) {
  console.error(`no samples of ${service} in ${file}`);
  process.exit(1);
}
const matched = [...shares.values()].reduce((sum, samples) => sum + samples, 0);
const percent = (samples: number) => `${(100 * samples / total).toFixed(2)}%`;
console.log(byPackage ? `${service}: ${total} samples, by package` : `${service}: ${total} samples; ${percent(matched)} in functions matching "${pattern}"`);
for (const [frame, samples] of [...shares].toSorted((a, b) => b[1] - a[1]).slice(0, Number(topArgument))) {
  console.log(`${percent(samples).padStart(7)}  ${frame}`);
}
