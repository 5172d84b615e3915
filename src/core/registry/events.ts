/** The model registry's log (DESIGN.md section 5): every line one event, the file the truth. */

export interface RegisterEvent {
  /** Stable across clones: set when the event is written; an older line's id is its content's hash (eventId). */
  id?: string;
  type: 'register';
  model: string;
  version: number;
  runId: string;
  snapshot: string | null;
  artifact: { path: string; sha256: string | null; size: number };
  metrics: Record<string, number>;
  who: string;
  at: string;
}

export interface AliasSetEvent {
  /** Stable across clones: set when the event is written; an older line's id is its content's hash (eventId). */
  id?: string;
  type: 'alias-set';
  model: string;
  alias: string;
  version: number;
  /** The version the alias pointed at before, or null when it is new. */
  previous: number | null;
  who: string;
  at: string;
}

export interface AliasRemovedEvent {
  /** Stable across clones: set when the event is written; an older line's id is its content's hash (eventId). */
  id?: string;
  type: 'alias-removed';
  model: string;
  alias: string;
  previous: number;
  who: string;
  at: string;
}

/** A version exported with everything it depends on (`runlens model export`): the audit log says who took it where. */
export interface ExportEvent {
  id?: string;
  type: 'export';
  model: string;
  version: number;
  /** The folder or archive written. */
  to: string;
  sha256: string | null;
  who: string;
  at: string;
}

export type RegistryEvent = RegisterEvent | AliasSetEvent | AliasRemovedEvent | ExportEvent;

export interface ModelVersion extends Omit<RegisterEvent, 'type'> {
  aliases: string[];
  /** The number its register event gave, when another clone had registered that number first. */
  renumberedFrom?: number;
}

export interface Model {
  name: string;
  versions: ModelVersion[];
  /** alias → version */
  aliases: Record<string, number>;
}

/** The registry as of the end of the log: models, their versions, and where each alias points. */
export function foldEvents(events: RegistryEvent[]): Map<string, Model> {
  const models = new Map<string, Model>();
  const model = (name: string) => {
    let m = models.get(name);
    if (!m) models.set(name, (m = { name, versions: [], aliases: {} }));
    return m;
  };
  for (const e of events) {
    const m = model(e.model);
    if (e.type === 'register') {
      const same = m.versions.find((v) => v.version === e.version);
      // A line repeated (a merge, a copy) registers nothing new: the first one stands.
      if (same && same.runId === e.runId && same.artifact.sha256 === e.artifact.sha256) continue;
      const { type: _type, ...version } = e;
      // Two clones that registered the same number before they shared: the later one takes the next free number.
      const number = same ? Math.max(...m.versions.map((v) => v.version)) + 1 : e.version;
      m.versions.push({ ...version, version: number, ...(same ? { renumberedFrom: e.version } : {}), metrics: version.metrics ?? {}, aliases: [] });
    } else if (e.type === 'alias-set') {
      m.aliases[e.alias] = e.version;
    } else if (e.type === 'alias-removed') {
      delete m.aliases[e.alias];
    }
  }
  for (const m of models.values()) {
    m.versions.sort((a, b) => a.version - b.version);
    for (const v of m.versions) v.aliases = Object.keys(m.aliases).filter((a) => m.aliases[a] === v.version).sort();
  }
  return models;
}
