import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** One bad or missing environment variable. The value itself is never reported: it may be a secret. */
export interface ConfigProblem {
  variable: string;
  problem: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(`invalid configuration: ${problems.map((p) => `${p.variable} (${p.problem})`).join(', ')}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Validates the environment against a schema, once, and returns a frozen config.
 * Every problem is collected before failing, so an operator fixes them all in one go.
 * Empty strings count as unset, as most shells and orchestrators produce them for "no value".
 * Any variable may instead name a file in `<NAME>_FILE` (a secret as Kubernetes or Docker mount
 * it): its content, trimmed, is the value; the variable itself wins when both are set. A schema
 * that has a `<NAME>_FILE` field of its own reads that file itself.
 *
 * @example
 * const config = loadConfig(ordersConfigSchema, process.env);
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env): Readonly<z.output<S>> {
  const input: Record<string, string> = {};
  const fileProblems: ConfigProblem[] = [];
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    const file = env[`${key}_FILE`];
    if (value !== undefined && value !== '') input[key] = value;
    // A schema that reads `<NAME>_FILE` itself (users' key-encryption key) keeps it to itself.
    else if (file !== undefined && file !== '' && !(`${key}_FILE` in schema.shape)) {
      try {
        input[key] = readFileSync(file, 'utf8').trim();
      } catch {
        fileProblems.push({ variable: `${key}_FILE`, problem: 'cannot read the file it names' });
      }
    }
  }
  const result = schema.safeParse(input);
  if (!result.success || fileProblems.length > 0) {
    const problems = fileProblems.concat((result.error?.issues ?? []).filter((issue) => !fileProblems.some((p) => p.variable === `${String(issue.path[0])}_FILE`)).map((issue) => {
      // zod does not put the input on its issues (unless asked to), so whether a variable was
      // set is read from what was handed to it.
      const variable = issue.path[0];
      const unset = typeof variable === 'string' && input[variable] === undefined;
      return {
        variable: issue.path.map(String).join('.') || '(environment)',
        problem: issue.code === 'invalid_type' && unset ? 'required, not set' : issue.message,
      };
    }));
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data);
}
