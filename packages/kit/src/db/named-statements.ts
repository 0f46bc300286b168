/**
 * Names for the statements a pool sends, so that each connection prepares a statement once and
 * then only binds and runs it.
 *
 * Unnamed, every statement with parameters is parsed, analysed and planned by PostgreSQL each
 * time it is sent; a service sends the same few dozen texts all day. Named, node-postgres sends
 * the text once per connection (it remembers which names a connection has parsed), and the
 * server keeps the parsed statement and, once it finds a generic plan no worse than the custom
 * ones (`plan_cache_mode = auto`), the plan too. The name is given by the text: the same text,
 * the same name on every connection of the pool. Texts built at run time (a search's filters,
 * a staff update's columns) could be many, so only the first `limit` different texts are named;
 * past that a text is sent unnamed, as before, and nothing grows.
 */
export interface NamedStatements {
  /** The name for `text`, or undefined when it is to be sent unnamed. */
  nameOf(text: string): string | undefined;
}

export function namedStatements(limit: number): NamedStatements {
  const names = new Map<string, string>();
  return {
    nameOf(text) {
      const known = names.get(text);
      if (known !== undefined || names.size >= limit) return known;
      const name = `baton_${names.size + 1}`;
      names.set(text, name);
      return name;
    },
  };
}
