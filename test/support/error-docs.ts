import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The rows of every table in docs/errors.md whose first column is `reason`, by table. */
export async function documentedReasonRows(): Promise<Array<{ reasons: string[]; cells: string[] }>> {
  const page = await readFile(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const rows: Array<{ reasons: string[]; cells: string[] }> = [];
  let inReasonTable = false;
  for (const line of page.split('\n')) {
    if (!line.startsWith('|')) {
      inReasonTable = false;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells[0] === 'reason') {
      inReasonTable = true;
      continue;
    }
    if (!inReasonTable || /^-+$/.test(cells[0] ?? '')) continue;
    rows.push({ reasons: [...(cells[0] ?? '').matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]!), cells });
  }
  return rows;
}
