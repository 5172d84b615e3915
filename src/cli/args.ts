/** A mistake in how the CLI was called: printed with a hint, exit code 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  /** Without the leading dashes. */
  name: string;
  value?: boolean;
  repeatable?: boolean;
}

export interface ParsedArgs {
  options: Map<string, string[]>;
  positionals: string[];
}

/**
 * Parses `--name value`, `--name=value` and flags. With `commandFollows`, the
 * first positional (or whatever follows `--`) starts a command line that is
 * kept untouched, so `runlens run python train.py --lr 1` works as expected.
 */
export function parseArgs(args: string[], specs: OptionSpec[], commandFollows = false): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const options = new Map<string, string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--') && arg.length > 2) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const spec = byName.get(name);
      if (!spec) throw new UsageError(`unknown option --${name}`);
      let value = 'true';
      if (spec.value) {
        if (eq >= 0) value = arg.slice(eq + 1);
        else if (i + 1 < args.length) value = args[++i]!;
        else throw new UsageError(`--${name} needs a value`);
      } else if (eq >= 0) {
        throw new UsageError(`--${name} takes no value`);
      }
      const list = options.get(name) ?? [];
      if (list.length > 0 && !spec.repeatable) throw new UsageError(`--${name} given more than once`);
      list.push(value);
      options.set(name, list);
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      throw new UsageError(`unknown option ${arg}`);
    } else if (commandFollows) {
      positionals.push(...args.slice(i));
      break;
    } else {
      positionals.push(arg);
    }
  }
  return { options, positionals };
}

export function flag(parsed: ParsedArgs, name: string): boolean {
  return parsed.options.has(name);
}

export function single(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.options.get(name)?.[0];
}

export function all(parsed: ParsedArgs, name: string): string[] {
  return parsed.options.get(name) ?? [];
}

export function expectPositionals(parsed: ParsedArgs, names: string[], usage: string): string[] {
  if (parsed.positionals.length !== names.length) {
    const what = parsed.positionals.length < names.length ? `missing ${names.slice(parsed.positionals.length).join(' and ')}` : `unexpected "${parsed.positionals[names.length]}"`;
    throw new UsageError(`${what}\nusage: ${usage}`);
  }
  return parsed.positionals;
}
