/** Bump when the tables change: an index of another version is rebuilt from the run files. */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE runs(
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  started_ms REAL,
  ended_ms REAL,
  exit_code INTEGER,
  branch TEXT,
  head TEXT,
  snapshot TEXT,
  dirty INTEGER,
  host TEXT,
  user TEXT,
  pid INTEGER,
  command TEXT,
  reproduces TEXT,
  problems INTEGER NOT NULL DEFAULT 0,
  dir_mtime REAL NOT NULL,
  metrics_offset INTEGER NOT NULL DEFAULT 0,
  metrics_line INTEGER NOT NULL DEFAULT 0,
  metrics_step REAL NOT NULL DEFAULT -1,
  live_summary INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE params(
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,   -- n number, b boolean, s text, z null
  num REAL,
  text TEXT,
  PRIMARY KEY(run_id, key)
) WITHOUT ROWID;
CREATE TABLE metrics(
  run_id TEXT NOT NULL,
  key TEXT NOT NULL,
  ord INTEGER NOT NULL,
  last REAL,
  last_nan INTEGER NOT NULL,
  min REAL,
  max REAL,
  count INTEGER NOT NULL,
  nan INTEGER NOT NULL,
  last_step REAL,
  PRIMARY KEY(run_id, key)
) WITHOUT ROWID;
CREATE TABLE tags(run_id TEXT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(run_id, tag)) WITHOUT ROWID;
CREATE TABLE unreadable(id TEXT PRIMARY KEY, reason TEXT NOT NULL, dir_mtime REAL NOT NULL) WITHOUT ROWID;
CREATE INDEX runs_started ON runs(started_ms);
CREATE INDEX params_key_num ON params(key, num);
CREATE INDEX params_key_text ON params(key, text);
CREATE INDEX metrics_key_last ON metrics(key, last);
CREATE INDEX tags_tag ON tags(tag);
`;
