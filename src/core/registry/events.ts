/** The model registry's log (DESIGN.md section 5): every line one event, the file the truth. */

export interface RegisterEvent {
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
  type: 'alias-removed';
  model: string;
  alias: string;
  previous: number;
  who: string;
  at: string;
}

export type RegistryEvent = RegisterEvent | AliasSetEvent | AliasRemovedEvent;

export interface ModelVersion extends Omit<RegisterEvent, 'type'> {
  aliases: string[];
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
      // A line repeated (a merge, a copy) registers nothing new: the first one stands.
      if (m.versions.some((v) => v.version === e.version)) continue;
      const { type: _type, ...version } = e;
      m.versions.push({ ...version, metrics: version.metrics ?? {}, aliases: [] });
    } else if (e.type === 'alias-set') {
      m.aliases[e.alias] = e.version;
    } else {
      delete m.aliases[e.alias];
    }
  }
  for (const m of models.values()) {
    m.versions.sort((a, b) => a.version - b.version);
    for (const v of m.versions) v.aliases = Object.keys(m.aliases).filter((a) => m.aliases[a] === v.version).sort();
  }
  return models;
}
