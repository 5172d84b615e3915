import * as fs from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type SqlJsStatic } from 'sql.js';

const WASM = 'sql-wasm.wasm';
let loading: Promise<SqlJsStatic> | null = null;

/**
 * sql.js with its wasm read from disk beside the bundle (dist/ for the CLI
 * and the extension), never fetched: these machines and many users' have no
 * network to fetch it from. $RUNLENS_SQL_WASM points elsewhere.
 */
export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= (() => {
    const file = process.env.RUNLENS_SQL_WASM ?? path.join(__dirname, WASM);
    if (!fs.existsSync(file)) {
      return Promise.reject(new Error(`${WASM} is missing at ${file}; rebuild RunLens (node esbuild.js)`));
    }
    return initSqlJs({ locateFile: () => file });
  })();
  return loading;
}
