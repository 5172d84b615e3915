import * as fs from 'node:fs';
import * as path from 'node:path';
import { HashCache, hashPath } from '../dataHash';
import { userAtHost } from '../identity';
import type { RunRecord } from '../runRecord';
import { foldEvents, type AliasSetEvent, type ExportEvent, type Model, type RegisterEvent, type RegistryEvent } from './events';
import { keepArtifact } from './keptArtifacts';
import { eventId, newEventId, unionEvents } from './merge';

/** A registry request that cannot be done as asked; nothing was written. */
export class RegistryError extends Error {}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,127}$/;
const LOCK_STALE_MS = 30_000;

export function checkName(kind: 'model' | 'alias', name: string): void {
  const pattern = kind === 'alias' ? /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/ : NAME;
  if (!pattern.test(name)) {
    throw new RegistryError(
      `"${name}" is not a usable ${kind} name: letters, digits, ".", "_", "-"${kind === 'model' ? ' and "/"' : ''}, starting with a letter or digit`,
    );
  }
}


export interface ReadResult {
  events: RegistryEvent[];
  /** Lines that could not be read: reported, kept in the file, skipped. */
  problems: string[];
}

/**
 * The registry under `.runlens/registry/`: an append-only log of register and
 * alias events. The current state, and the audit trail of who moved which
 * alias when, are both read from it; a rollback is one more alias event.
 */
export class Registry {
  readonly file: string;

  constructor(readonly storeDir: string) {
    this.file = path.join(storeDir, 'registry', 'events.jsonl');
  }

  read(): ReadResult {
    let text = '';
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const events: RegistryEvent[] = [];
    const problems: string[] = [];
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      try {
        const e = JSON.parse(line) as RegistryEvent;
        const missing = missingFields(e);
        if (missing) throw new Error(missing);
        events.push(e);
      } catch (err) {
        const torn = i === lines.length - 1;
        problems.push(`registry line ${i + 1} ${torn ? 'is torn (a writer stopped mid-line)' : `cannot be read: ${(err as Error).message}`}; skipped`);
      }
    });
    // Time order, each event once: what a merge of two clones' logs appended is read where it belongs.
    return { events: unionEvents(events, []), problems };
  }

  models(): Map<string, Model> {
    return foldEvents(this.read().events);
  }

  model(name: string): Model {
    const m = this.models().get(name);
    if (!m) throw new RegistryError(`no model named "${name}"`);
    return m;
  }

  /**
   * Registers a run's artifact as the next version of `model`. The artifact is
   * one the run recorded (by path) or any file under the run's folder; it is
   * hashed now, and a hash that differs from the run's record is refused,
   * since the file is then not what the run produced.
   */
  register(model: string, run: RunRecord, artifactPath?: string, force = false): RegisterEvent {
    checkName('model', model);
    if (run.status === 'running') throw new RegistryError(`run ${run.id} is still running; register it once it has finished`);
    if (run.status !== 'finished' && !force) throw new RegistryError(`run ${run.id} ${run.status}; register a finished run, or pass --force`);
    const recorded = run.artifacts.filter((a) => a.kind !== 'missing' && !a.stale);
    let chosen = artifactPath ?? (recorded.length === 1 ? recorded[0]!.path : undefined);
    if (!chosen) {
      throw new RegistryError(
        recorded.length === 0
          ? `run ${run.id} recorded no artifact; name the model file with --artifact`
          : `run ${run.id} recorded ${recorded.length} artifacts (${recorded.map((a) => a.path).join(', ')}); choose one with --artifact`,
      );
    }
    const known = run.artifacts.find((a) => a.path === chosen || path.resolve(run.cwd, a.path) === path.resolve(run.cwd, chosen!));
    if (known) chosen = known.path;
    if (known?.stale && !force) throw new RegistryError(`artifact ${chosen} was not written by run ${run.id} (it was older than the run); pass --force to register it anyway`);
    const hashed = hashPath(chosen, run.cwd, new HashCache(null));
    if (hashed.kind === 'missing') throw new RegistryError(`artifact ${chosen} is not there (${hashed.error ?? 'missing'})`);
    if (known?.sha256 && hashed.sha256 !== known.sha256) {
      throw new RegistryError(`artifact ${chosen} has changed since run ${run.id} wrote it (sha256 ${known.sha256.slice(0, 12)}… then, ${hashed.sha256?.slice(0, 12)}… now)`);
    }
    // The version keeps its own copy: a later run that writes the same path again cannot change it.
    if (hashed.sha256) keepArtifact(this.storeDir, path.resolve(run.cwd, chosen), hashed.sha256);
    const metrics: Record<string, number> = {};
    for (const [k, m] of Object.entries(run.metricsSummary?.metrics ?? {})) if (Number.isFinite(m.last)) metrics[k] = m.last;
    return this.withLock(() => {
      const existing = this.models().get(model);
      const version = existing ? Math.max(0, ...existing.versions.map((v) => v.version)) + 1 : 1;
      const event: RegisterEvent = {
        type: 'register',
        model,
        version,
        runId: run.id,
        snapshot: run.git?.snapshot ?? null,
        artifact: { path: chosen!, sha256: hashed.sha256, size: hashed.size },
        metrics,
        who: userAtHost(),
        at: new Date().toISOString(),
      };
      this.append(event);
      return event;
    });
  }

  /** Points `alias` at `version`; the event keeps where it pointed before. */
  setAlias(model: string, alias: string, version: number): AliasSetEvent {
    checkName('alias', alias);
    return this.withLock(() => {
      const m = this.model(model);
      if (!m.versions.some((v) => v.version === version)) {
        throw new RegistryError(`${model} has no version ${version} (versions: ${m.versions.map((v) => v.version).join(', ') || 'none'})`);
      }
      const previous = m.aliases[alias] ?? null;
      if (previous === version) throw new RegistryError(`${alias} already points at ${model} v${version}`);
      const event: AliasSetEvent = { type: 'alias-set', model, alias, version, previous, who: userAtHost(), at: new Date().toISOString() };
      this.append(event);
      return event;
    });
  }

  removeAlias(model: string, alias: string): void {
    this.withLock(() => {
      const m = this.model(model);
      const previous = m.aliases[alias];
      if (previous === undefined) throw new RegistryError(`${model} has no alias "${alias}"`);
      this.append({ type: 'alias-removed', model, alias, previous, who: userAtHost(), at: new Date().toISOString() });
    });
  }

  /** Moves `alias` back to the version it pointed at before its last move. */
  rollback(model: string, alias: string): AliasSetEvent {
    const last = this.history(model, alias).filter((e) => e.type === 'alias-set').pop() as AliasSetEvent | undefined;
    if (!last) throw new RegistryError(`${model} has no alias "${alias}" to roll back`);
    if (last.previous === null) throw new RegistryError(`${alias} of ${model} has pointed only at v${last.version}; there is nothing to roll back to`);
    return this.setAlias(model, alias, last.previous);
  }

  /** Records that a version was exported (the audit log keeps who took it where). */
  recordExport(model: string, version: number, to: string, sha256: string | null): ExportEvent {
    return this.withLock(() => {
      const event: ExportEvent = { type: 'export', model, version, to, sha256, who: userAtHost(), at: new Date().toISOString() };
      this.append(event);
      return event;
    });
  }

  /** The audit log: alias events of a model (one alias, or all) and its exports, oldest first. */
  history(model: string, alias?: string): RegistryEvent[] {
    return this.read().events.filter((e) => e.model === model && e.type !== 'register' && (alias === undefined || (e.type !== 'export' && e.alias === alias)));
  }

  /**
   * Takes in events from another clone (runlens pull): those not here are appended, so the log
   * holds the union by event id (read in time order). Returns how many were new here.
   */
  merge(incoming: RegistryEvent[]): number {
    return this.withLock(() => {
      const known = new Set(this.read().events.map(eventId));
      const added = unionEvents(incoming, []).filter((e) => !known.has(eventId(e)));
      for (const event of added) this.append(event, false);
      return added.length;
    });
  }

  /** One line at the end; a new event gets its id here, one taken in from another clone keeps its own (or none). */
  private append(event: RegistryEvent, isNew = true): void {
    if (isNew) event.id ??= newEventId();
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = fs.openSync(this.file, 'a+');
    try {
      // A torn line left by a dead writer must not swallow this one.
      const size = fs.fstatSync(fd).size;
      const last = Buffer.alloc(1);
      if (size > 0) fs.readSync(fd, last, 0, 1, size - 1);
      fs.writeSync(fd, (size > 0 && last[0] !== 0x0a ? '\n' : '') + JSON.stringify(event) + '\n');
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  /** One writer at a time, so two registrations cannot take the same version number. */
  private withLock<T>(work: () => T): T {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const lock = `${this.file}.lock`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        try {
          if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
        } catch {
          // gone already
        }
        if (Date.now() > deadline) throw new RegistryError(`the registry is locked by another process (${lock}); try again`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    try {
      return work();
    } finally {
      fs.rmSync(lock, { force: true });
    }
  }
}

/** What makes a parsed line unusable as an event, in words; null when it is a whole event. */
function missingFields(e: unknown): string | null {
  if (!e || typeof e !== 'object') return 'not a registry event';
  const f = e as Record<string, unknown>;
  if (!['register', 'alias-set', 'alias-removed', 'export'].includes(f.type as string)) return 'not a registry event';
  const need: [string, (v: unknown) => boolean][] = [['model', (v) => typeof v === 'string' && v !== ''], ['at', (v) => typeof v === 'string']];
  if (f.type === 'register') {
    need.push(['version', Number.isInteger], ['runId', (v) => typeof v === 'string'], ['artifact', (v) => !!v && typeof v === 'object' && typeof (v as { path?: unknown }).path === 'string']);
  } else if (f.type === 'export') {
    need.push(['version', Number.isInteger], ['to', (v) => typeof v === 'string']);
  } else {
    need.push(['alias', (v) => typeof v === 'string' && v !== '']);
    if (f.type === 'alias-set') need.push(['version', Number.isInteger]);
  }
  const bad = need.filter(([key, ok]) => !ok(f[key])).map(([key]) => key);
  return bad.length ? `a ${String(f.type)} event without ${bad.join(', ')}` : null;
}
