import type { FoldedStacks } from './cpu-profile.ts';

// A flame graph as a standalone SVG (Brendan Gregg's layout: the root at the bottom, each frame
// as wide as the samples under it, children sorted by name), with each frame's name, samples and
// share in its <title>, so a browser shows them on hover. Written here because the one npm
// renderer of .cpuprofile files to SVG (`flamegraph`, last released 2016) reads only the
// profile format V8 dropped in 2017; the rest of the profile's reading is ours too (cpu-profile.ts).

interface Frame { name: string; samples: number; children: Map<string, Frame> }

const rowPx = 16;
const widthPx = 1600;
const minWidthPx = 1;

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

/** A frame's colour: warm, and the same for the same name, so one function reads alike everywhere. */
function colour(name: string): string {
  let hash = 0;
  for (const char of name) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  const kit = name.includes('packages/kit/') || name.includes('services/');
  return kit ? `rgb(${200 + (hash % 55)},${120 + (hash % 80)},${40 + (hash % 30)})` : `rgb(${220 + (hash % 35)},${60 + (hash % 120)},${20 + (hash % 40)})`;
}

export function flameGraphSvg(stacks: FoldedStacks, title: string): string {
  const top: Frame = { name: 'all', samples: 0, children: new Map() };
  for (const [stack, samples] of stacks) {
    top.samples += samples;
    let at = top;
    for (const name of stack.split(';')) {
      let child = at.children.get(name);
      if (child === undefined) {
        child = { name, samples: 0, children: new Map() };
        at.children.set(name, child);
      }
      child.samples += samples;
      at = child;
    }
  }
  const pxPerSample = widthPx / Math.max(top.samples, 1);
  const rects: string[] = [];
  let depthMax = 0;
  const draw = (frame: Frame, x: number, depth: number) => {
    const w = frame.samples * pxPerSample;
    if (w < minWidthPx) return;
    depthMax = Math.max(depthMax, depth);
    const label = `${frame.name} (${frame.samples} samples, ${((100 * frame.samples) / top.samples).toFixed(2)}%)`;
    const text = w > 30 ? `<text x="${(x + 3).toFixed(1)}" y="${-depth * rowPx - 4}">${escape(frame.name.slice(0, Math.floor((w - 6) / 7)))}</text>` : '';
    rects.push(`<g><title>${escape(label)}</title><rect x="${x.toFixed(1)}" y="${-(depth + 1) * rowPx}" width="${w.toFixed(1)}" height="${rowPx - 1}" fill="${colour(frame.name)}"/>${text}</g>`);
    let childX = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, childX, depth + 1);
      childX += child.samples * pxPerSample;
    }
  };
  draw(top, 0, 0);
  const heightPx = (depthMax + 1) * rowPx + 40;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 ${-heightPx + 10} ${widthPx} ${heightPx}" font-family="monospace" font-size="11">`,
    `<text x="4" y="${-heightPx + 26}" font-size="14">${escape(title)}</text>`,
    ...rects,
    '</svg>',
  ].join('\n');
}
