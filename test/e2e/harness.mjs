// What the editor tests and the panel bench share: the tools scripts/e2e-setup.sh installed,
// code-server on a free loopback port, Chromium, and runs generated as plain files.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const E2E_HOME = process.env.RUNLENS_E2E_HOME ?? path.join(os.homedir(), '.cache', 'runlens-e2e');
export const tools = Object.fromEntries(
  fs.readFileSync(path.join(E2E_HOME, 'env.sh'), 'utf8').split('\n').filter((l) => l.startsWith('export ')).map((l) => {
    const [k, v] = l.slice(7).split('=');
    return [k, v.replace(/^"|"$/g, '')];
  }),
);
export const { chromium } = createRequire(import.meta.url)(tools.RUNLENS_PLAYWRIGHT);

export function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * code-server with RunLens (linked into `work/exts`) on `folder`, on a free
 * port of 127.0.0.1. `name` 'main' uses `work/ud`; others copy its settings.
 */
export async function startCodeServer({ work, name, folder, trust = false }) {
  const port = await freePort();
  const userData = path.join(work, name === 'main' ? 'ud' : `ud-${name}`);
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  const mainSettings = path.join(work, 'ud', 'User', 'settings.json');
  if (name !== 'main' && fs.existsSync(mainSettings)) fs.copyFileSync(mainSettings, path.join(userData, 'User', 'settings.json'));
  fs.mkdirSync(path.join(work, 'logs'), { recursive: true });
  const logFile = path.join(work, 'logs', `code-server-${name}.log`);
  const server = spawn(
    tools.RUNLENS_CODE_SERVER,
    ['--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', ...(trust ? [] : ['--disable-workspace-trust']),
     '--disable-getting-started-override', '--vscode-option', 'enable-smoke-test-driver',
     '--user-data-dir', userData, '--extensions-dir', path.join(work, 'exts'), folder],
    { detached: true, stdio: ['ignore', fs.openSync(logFile, 'w'), fs.openSync(logFile, 'a')],
      env: { ...process.env, PATH: `${path.dirname(tools.RUNLENS_NODE24)}:${process.env.PATH}`, XDG_CONFIG_HOME: path.join(work, 'xdg') } },
  );
  const stop = () => {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  process.on('exit', stop);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 240; i++) {
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { base, port, stop };
}

/**
 * `count` runs as plain files, what months of sweeps leave behind; with
 * `points`, each also gets a metrics.jsonl of that many steps of `metrics`.
 */
export function generateRuns(folder, count, { points = 0, metrics = ['acc', 'loss'] } = {}) {
  const runs = path.join(folder, '.runlens', 'runs');
  fs.mkdirSync(runs, { recursive: true });
  const alphabet = '0123456789abcdefghjkmnpqrstvwxyz';
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ids = [];
  for (let i = 0; i < count; i++) {
    const t = Date.UTC(2026, 8, 1) + i * 60_000;
    let id = '';
    for (let k = 0, x = t; k < 10; k++, x = Math.floor(x / 32)) id = alphabet[x % 32] + id;
    for (let k = 0; k < 16; k++) id += alphabet[Math.floor(random() * 32)];
    const acc = Math.round(random() * 10000) / 10000;
    const summary = Object.fromEntries(metrics.map((m, j) => [m, { last: j % 2 ? 1 - acc : acc, min: 0, max: 1, count: Math.max(points, 100), nan: 0, lastStep: Math.max(points, 100) - 1 }]));
    const record = {
      version: 1, id, name: `sweep-${String(i).padStart(5, '0')}`, command: ['python', 'train.py'], cwd: folder, cwdInRepo: null,
      startedAt: new Date(t).toISOString(), endedAt: new Date(t + 30_000).toISOString(), status: i % 17 === 0 ? 'failed' : 'finished', exitCode: i % 17 === 0 ? 1 : 0,
      signal: null, pid: 1, host: 'elsewhere', user: 'ml', tags: i % 5 === 0 ? ['sweep'] : [], git: null, gitError: 'generated',
      params: { lr: [0.1, 0.01, 0.001][i % 3], batch: [16, 32, 64, 128][i % 4], optimizer: ['adam', 'sgd'][i % 2] }, paramSources: {},
      configFiles: [], env: null, data: [], artifacts: [], seed: null, problems: [],
      metricsSummary: { lines: Math.max(points, 100), lastStep: 99, malformed: 0, malformedSamples: [], metrics: summary },
    };
    fs.mkdirSync(path.join(runs, id));
    fs.writeFileSync(path.join(runs, id, 'run.json'), JSON.stringify(record));
    if (points > 0) {
      const fd = fs.openSync(path.join(runs, id, 'metrics.jsonl'), 'w');
      let text = '';
      for (let s = 0; s < points; s++) {
        text += `{"step":${s},"t":${(1.7e9 + s * 0.1).toFixed(1)}${metrics.map((m, j) => `,"${m}":${(Math.sin(s / (200 + j * 37) + i) * 0.5 + 0.5 + (s % 9973 === 0 ? 3 : 0)).toPrecision(6)}`).join('')}}\n`;
        if (text.length > 1 << 22) {
          fs.writeSync(fd, text);
          text = '';
        }
      }
      fs.writeSync(fd, text);
      fs.closeSync(fd);
    }
    ids.push(id);
  }
  return ids;
}
