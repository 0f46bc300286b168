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
 *
 * @example
 * const config = loadConfig(ordersConfigSchema, process.env);
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Env): Readonly<z.output<S>> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      // zod does not put the input on its issues (unless asked to), so whether a variable was
      // set is read from what was handed to it.
      const variable = issue.path[0];
      const unset = typeof variable === 'string' && input[variable] === undefined;
      return {
        variable: issue.path.map(String).join('.') || '(environment)',
        problem: issue.code === 'invalid_type' && unset ? 'required, not set' : issue.message,
      };
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data);
}
