import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

export interface Row { variant: string; metric: string; value: number; unit: string; note?: string }

export interface Scenario {
  name: string;
  description: string;
  /** What the project aims for; reported beside the measurement, never asserted. */
  target: string;
  run(): Promise<Row[]>;
  /** Lines printed after the report, when a scenario has a verdict to end on (its last line last). */
  summary?(rows: readonly Row[]): string;
}

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));

const format = (value: number) => (Number.isFinite(value) ? (Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3)) : String(value));

/** Writes `bench/results/<scenario>.md` and `.json`, and returns the markdown. */
export async function writeReport(scenario: Scenario, rows: Row[], command: string): Promise<string> {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`;
  const when = new Date().toISOString();
  const table = ['| variant | metric | value | unit | note |', '|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${r.metric} | ${format(r.value)} | ${r.unit} | ${r.note ?? ''} |`)].join('\n');
  const markdown = `# ${scenario.name}\n\n${scenario.description}\n\nTarget: ${scenario.target}\n\n${table}\n\n` +
    `Measured ${when} on Node ${process.version}, ${machine}, with \`${command}\`. All variants ran in the same process, interleaved where it matters.\n`;
  await mkdir(resultsDir, { recursive: true });
  await writeFile(`${resultsDir}${scenario.name}.md`, markdown);
  await writeFile(`${resultsDir}${scenario.name}.json`, JSON.stringify({ scenario: scenario.name, when, node: process.version, machine, command, rows }, null, 2));
  return markdown;
}
