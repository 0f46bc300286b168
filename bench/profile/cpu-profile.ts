import { readFile } from 'node:fs/promises';

// What `node --cpu-prof` writes (V8's Profile of the DevTools protocol): a tree of call frames,
// the node each sample fell in, and the microseconds between samples.
interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

/** Samples by stack, root first, frames joined with `;` (the "folded" format of flame graphs). */
export type FoldedStacks = Map<string, number>;

const root = '/work/main/';

/** A frame's name: the function, and where it is (a path inside the project or a package, or `node:` module). */
export function frameName({ functionName, url, lineNumber }: CallFrame): string {
  const name = functionName === '' ? '(anonymous)' : functionName;
  if (url === '') return name;
  const where = url.replace(/^file:\/\//, '').replace(process.cwd() + '/', '').replace(root, '').replace(/^.*node_modules\//, '');
  return `${name} ${where}:${lineNumber + 1}`;
}

/**
 * The stacks of the samples taken between `fromUs` and `toUs` (V8's clock, which is
 * `process.hrtime`'s: microseconds), idle samples left out, each under `prefix`.
 */
export async function foldedStacks(file: string, { fromUs, toUs, prefix }: { fromUs: number; toUs: number; prefix: string }): Promise<FoldedStacks> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const stackOf = new Map<number, string>();
  const stack = (id: number): string => {
    let known = stackOf.get(id);
    if (known !== undefined) return known;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)!.callFrame;
      if (frame.functionName !== '(root)') frames.push(frameName(frame));
    }
    known = [prefix, ...frames.reverse()].join(';');
    stackOf.set(id, known);
    return known;
  };
  const folded: FoldedStacks = new Map();
  let atUs = profile.startTime;
  for (const [i, id] of profile.samples.entries()) {
    atUs += profile.timeDeltas[i] ?? 0;
    if (atUs < fromUs || atUs > toUs || byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const key = stack(id);
    folded.set(key, (folded.get(key) ?? 0) + 1);
  }
  return folded;
}

/** The functions samples fell in (self time), most first: [frame, samples]. */
export function selfTime(stacks: FoldedStacks): Array<[string, number]> {
  const self = new Map<string, number>();
  for (const [stack, samples] of stacks) {
    const leaf = stack.slice(stack.lastIndexOf(';') + 1);
    self.set(leaf, (self.get(leaf) ?? 0) + samples);
  }
  return [...self].sort((a, b) => b[1] - a[1]);
}
