/** Bump when the tables change: an index of another version is rebuilt from the run files. */
export const SCHEMA_VERSION = 6;

/**
 * Runs are referred to by an integer `rid` and param and metric names by an
 * integer `kid`: 26-character ids and repeated names in 400k rows made the
 * index twice the size and its queries several times slower (bench).
 */
export const SCHEMA = `
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE runs(
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
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
  -- the file the command ran, as a path in the repository (train.py, src/train.py): how an editor finds a file's runs
  script TEXT,
  reproduces TEXT,
  -- imported runs: the source's kind (mlflow, tensorboard, …) and experiment; NULL for recorded runs
  source_kind TEXT,
  source_experiment TEXT,
  problems INTEGER NOT NULL DEFAULT 0,
  -- run.json's mtime:inode:size ('0' while too recent to trust), or its folder's when it has none
  file_sig TEXT NOT NULL,
  metrics_offset INTEGER NOT NULL DEFAULT 0,
  metrics_line INTEGER NOT NULL DEFAULT 0,
  metrics_step REAL NOT NULL DEFAULT -1,
  live_summary INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE keys(kid INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE params(
  rid INTEGER NOT NULL,
  kid INTEGER NOT NULL,
  type TEXT NOT NULL,   -- n number (num only; NULL when NaN), b boolean (text 'true'/'false'), s text, z null
  num REAL,
  text TEXT,
  PRIMARY KEY(rid, kid)
) WITHOUT ROWID;
CREATE TABLE metrics(
  rid INTEGER NOT NULL,
  kid INTEGER NOT NULL,
  ord INTEGER NOT NULL,
  last REAL,
  last_nan INTEGER NOT NULL,
  min REAL,
  max REAL,
  count INTEGER NOT NULL,
  nan INTEGER NOT NULL,
  last_step REAL,
  PRIMARY KEY(rid, kid)
) WITHOUT ROWID;
-- config files the run loaded, as paths in the repository: how a config file's editor finds its runs
CREATE TABLE config_files(rid INTEGER NOT NULL, path TEXT NOT NULL, PRIMARY KEY(rid, path)) WITHOUT ROWID;
CREATE TABLE tags(rid INTEGER NOT NULL, tag TEXT NOT NULL, PRIMARY KEY(rid, tag)) WITHOUT ROWID;
CREATE TABLE unreadable(id TEXT PRIMARY KEY, reason TEXT NOT NULL, file_sig TEXT NOT NULL) WITHOUT ROWID;
`;

/**
 * The secondary indexes, made by a cold build once its rows are in: SQLite sorts the rows once to
 * build each, where keeping them up to date through 400,000 inserts in random key order cost
 * more than the inserts themselves (bench).
 */
export const SECONDARY_INDEXES = `
CREATE INDEX runs_started ON runs(started_ms);
CREATE INDEX params_num ON params(kid, num);
CREATE INDEX params_text ON params(kid, text);
CREATE INDEX metrics_last ON metrics(kid, last);
CREATE INDEX tags_tag ON tags(tag);
CREATE INDEX runs_script ON runs(script);
CREATE INDEX config_files_path ON config_files(path);
`;
