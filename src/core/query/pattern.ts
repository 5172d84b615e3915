import { RE2JS } from 're2js';

/**
 * `~` and `!~` patterns. They come from people and from filter boxes, and run
 * against names and params that runs chose, so they match in linear time
 * (RE2: no backtracking, so `(A+)+B` against a long name cannot hang), case
 * insensitively. RE2 has no lookaround or backreferences; using them is a
 * syntax error, said when the query is parsed.
 */
const cache = new Map<string, RE2JS>();

/** Compiles a pattern, or throws an Error whose message says what is wrong with it. */
export function compilePattern(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE);
    } catch (err) {
      throw new Error((err as Error).message.replace(/^error parsing regexp: /, ''));
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** Whether `pattern` matches anywhere in `text`. */
export function patternMatches(pattern: string, text: string): boolean {
  return compilePattern(pattern).test(text);
}
