// The editor tests in a real VS Code (code-server) on this machine, as shared/e2e describes:
//   1. extension-host tests: test/extension (mocha) through ?payload=extensionTestsPath;
//   2. UI tests: Debian's Chromium driven by playwright-core clicks through the workbench
//      and saves screenshots in .e2e/shots.
// Needs scripts/e2e-setup.sh first (npm test runs it). Prints "N passed, N failed".
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { ROOT, freePort, generateRuns, launchBrowser, startCodeServer } from './harness.mjs';

const WORK = path.join(ROOT, '.e2e');
const SHOTS = path.join(WORK, 'shots');
const t0 = Date.now();
const log = (...a) => console.log(`[e2e ${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
let passed = 0;
let failed = 0;
const check = (ok, what) => {
  if (ok) passed++;
  else failed++;
  log(`${ok ? 'ok' : 'FAIL'} - ${what}`);
};
/** A wait that is itself the check: true when it happened in time. */
const happened = (promise) => promise.then(() => true, () => false);
/**
 * One step of a suite: a step that throws counts as a failure and the suite goes on with the next
 * one, so one failure never hides the checks after it.
 */
async function step(what, run, onError) {
  try {
    await run();
  } catch (err) {
    check(false, `${what}: ${err.stack ?? err}`);
    await onError?.().catch(() => {});
  }
}

fs.rmSync(WORK, { recursive: true, force: true });
for (const d of ['ud/User', 'exts', 'shots', 'logs']) fs.mkdirSync(path.join(WORK, d), { recursive: true });
const wsUi = path.join(WORK, 'ws-ui');
const wsHost = path.join(WORK, 'ws-host');
for (const ws of [wsUi, wsHost]) execFileSync('bash', [path.join(ROOT, 'scripts', 'demo-workspace.sh'), ws], { stdio: 'inherit' });
// A run whose name, params and metric keys are HTML and script payloads: the panel must show them as text.
const HOSTILE_NAME = '<img src=x onerror=alert(1)>';
const HOSTILE_METRIC = '</script><script>alert(3)</script>';
execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--config', 'config.json', '--name', HOSTILE_NAME,
  '--param', '"><svg onload=alert(2)>=1', '--param', 'note=<img src=x onerror=alert(4)>', '--',
  'python3', '-c', `import json\nfor s in range(40): print(json.dumps({"step": s, ${JSON.stringify(HOSTILE_METRIC)}: s % 7, "loss": 1 / (s + 1)}))`], { cwd: wsUi });
// A run whose name hides its real text behind a right-to-left override: the tree must show the control.
const BIDI_NAME = 'report\u202Egnp.exe';
execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', BIDI_NAME, '--', 'true'], { cwd: wsUi });
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
fs.symlinkSync(ROOT, path.join(WORK, 'exts', `${pkg.publisher}.${pkg.name}-${pkg.version}`));
fs.writeFileSync(
  path.join(WORK, 'ud', 'User', 'settings.json'),
  JSON.stringify({
    'workbench.startupEditor': 'none', 'workbench.tips.enabled': false, 'telemetry.telemetryLevel': 'off', 'update.mode': 'none',
    'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'extensions.ignoreRecommendations': true, 'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden', 'window.restoreWindows': 'none', 'git.enabled': false, 'workbench.colorTheme': 'Default Dark Modern',
    // Tooltips wait longer than a test's hover: an open one can cover the row a test clicks next.
    'workbench.hover.delay': 3000,
  }),
);

/** code-server for one of the test workspaces; `trust` leaves Workspace Trust on. */
async function startServer(name, folder, { trust = false } = {}) {
  const server = await startCodeServer({ work: WORK, name, folder, trust });
  log(`code-server (${name}) on ${server.base}`);
  return server;
}

const { base, port, stop } = await startServer('main', wsUi);

const browser = await launchBrowser();

async function extensionHostTests() {
  const page = await browser.newPage();
  const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
  const payload = JSON.stringify([['extensionDevelopmentPath', remote(ROOT)], ['extensionTestsPath', remote(path.join(ROOT, 'out', 'test', 'extension', 'index.js'))]]);
  let exit;
  const exited = new Promise((r) => (exit = r));
  await page.exposeFunction('codeAutomationLog', (type, args) => console.log(`  [exthost ${type}] ${util.format(...(args ?? []))}`));
  await page.exposeFunction('codeAutomationExit', (code) => exit(code));
  await page.goto(`${base}/?folder=${encodeURIComponent(wsHost)}&payload=${encodeURIComponent(payload)}`, { waitUntil: 'domcontentloaded' });
  const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 300_000))]);
  await page.screenshot({ path: path.join(SHOTS, '00-extension-host-tests.png') }).catch(() => {});
  await page.close();
  check(code === 0, `extension-host tests (exit ${code})`);
}

/** Opens `folder` in the workbench at `base` and shows the RunLens views. */
async function openRunLens(page, base, folder) {
  await page.goto(`${base}/?folder=${encodeURIComponent(folder)}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  await showRunLens(page);
}

/** The RunLens views, from the activity bar. */
async function showRunLens(page) {
  const icon = page.locator('.activitybar .action-item[aria-label^="RunLens"], .activitybar a[aria-label^="RunLens"]').first();
  await icon.waitFor({ state: 'visible', timeout: 120_000 });
  await icon.click();
}

/** The frame holding the Compare panel's page, once it has rendered. */
async function compareFrame(page, prefix = 'Comparing') {
  for (let i = 0; i < 120; i++) {
    for (const frame of page.frames()) {
      const title = await frame.evaluate(() => document.querySelector('#root h1')?.textContent ?? null).catch(() => null);
      if (title?.startsWith(prefix)) return frame;
    }
    await page.waitForTimeout(250);
  }
  throw new Error('the Compare panel did not render');
}

async function drawnCharts(frame) {
  return frame.evaluate(() =>
    [...document.querySelectorAll('.chart canvas')].map((canvas) => {
      const { width, height } = canvas;
      const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
      let drawn = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) drawn++;
      return drawn;
    }),
  );
}

/** The colours the charts are drawn in (opaque pixels), to tell a redraw in another theme from none. */
async function chartColours(frame) {
  return frame.evaluate(() => {
    const colours = new Set();
    for (const canvas of document.querySelectorAll('.chart canvas')) {
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < pixels.length; i += 4) if (pixels[i + 3] === 255) colours.add(`${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`);
    }
    return [...colours].sort();
  });
}

/**
 * Picks a colour theme with the theme picker's own keybinding (typing its name in the palette also
 * matches the marketplace browser), then waits for the workbench to wear it and the panels to redraw.
 */
async function switchTheme(page, theme, workbenchClass) {
  await page.locator('.monaco-workbench').click({ position: { x: 700, y: 880 } }).catch(() => {});
  await page.keyboard.press('Control+K');
  await page.keyboard.press('Control+T');
  await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 30_000 });
  // The list is virtualized: a theme shows only once the input narrows it.
  await page.locator('.quick-input-widget input').fill(theme);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor({ timeout: 30_000 });
  await page.waitForTimeout(300);
  await page.keyboard.press('Enter');
  await page.waitForFunction((cls) => document.querySelector('.monaco-workbench')?.classList.contains(cls), workbenchClass, { timeout: 30_000 });
  await page.waitForTimeout(2000);
}

async function comparePanelTests(page, shot) {
  const dialogs = [];
  const violations = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  const view = '[id="workbench.view.extension.runlens"]';
  const row = (name) => page.locator(`${view} .monaco-list-row`, { hasText: name }).first();
  await page.keyboard.press('Escape');
  await row('baseline').click();
  await row('faster-lr').click({ modifiers: ['Control'] });
  await row(HOSTILE_NAME).click({ modifiers: ['Control'] });
  await page.locator(`${view} .pane-header .action-label[aria-label^="Compare Runs"]`).first().click();
  await page.locator('.tabs-container .tab', { hasText: 'Compare:' }).waitFor({ timeout: 30_000 });
  const frame = await compareFrame(page);
  const header = await frame.evaluate(() => [...document.querySelectorAll('table.runs .name')].map((n) => n.textContent));
  check(header.length === 3 && header.includes(HOSTILE_NAME), `the header names the three runs, the payload as text (${JSON.stringify(header)})`);
  const rows = await frame.evaluate(() => [...document.querySelectorAll('table.params tr[data-key]')].map((r) => [r.getAttribute('data-key'), r.classList.contains('differs')]));
  const keys = Object.fromEntries(rows);
  check(keys.lr === true && keys.note === true && keys['"><svg onload'] === true && !('max_loss' in keys), `the params table shows only differing keys, marked (${JSON.stringify(rows)})`);
  await frame.locator('vscode-checkbox').first().click();
  const all = await frame.evaluate(() => Object.fromEntries([...document.querySelectorAll('table.params tr[data-key]')].map((r) => [r.getAttribute('data-key'), r.classList.contains('differs')])));
  check(all.max_loss === false && all.lr === true, 'with "only what differs" off, same keys appear unmarked');
  // A param from a config file opens that file as it was in the run, at the line that sets it.
  await frame.locator('tr[data-key="max_loss"] td.link').first().click();
  await page.locator('.tabs-container .tab', { hasText: 'config.json' }).first().waitFor({ timeout: 30_000 });
  const atLine = await page.locator('.statusbar', { hasText: 'Ln 3,' }).first().waitFor({ timeout: 15_000 }).then(() => true, () => false);
  check(atLine, 'a config param opens config.json at the line that sets it (Ln 3)');
  await frame.waitForFunction(() => document.querySelectorAll('.chart canvas').length >= 3, null, { timeout: 30_000 });
  await page.waitForTimeout(1000);
  const drawn = await drawnCharts(frame);
  check(drawn.length >= 3 && drawn.every((n) => n > 200), `every chart's canvas has drawn pixels (${JSON.stringify(drawn)})`);
  const metricNames = await frame.evaluate(() => [...document.querySelectorAll('table.metrics td.key')].map((n) => n.textContent));
  const injected = await frame.evaluate(() => ({
    elements: document.querySelectorAll('#root img, #root svg[onload], #root script').length,
    alertScripts: [...document.scripts].filter((sc) => sc.textContent.includes('alert(')).length,
  }));
  check(metricNames.includes(HOSTILE_METRIC) && injected.elements === 0 && injected.alertScripts === 0, `the script-payload metric key is text; nothing was injected (${JSON.stringify({ metricNames, injected })})`);
  check(dialogs.length === 0, `no script ran (dialogs: ${JSON.stringify(dialogs)})`);
  check(violations.length === 0, `no CSP violation (${JSON.stringify(violations.slice(0, 3))})`);
  await shot('06-compare-dark.png');
  await switchTheme(page, 'Light Modern', 'vs');
  const lightFrame = await compareFrame(page);
  const redrawn = await drawnCharts(lightFrame);
  check(redrawn.length >= 3 && redrawn.every((n) => n > 200), 'charts are drawn again in the light theme');
  const lightColours = await chartColours(lightFrame);
  await shot('07-compare-light.png');
  await lightFrame.evaluate(() => document.querySelector('#charts')?.scrollIntoView());
  await page.waitForTimeout(500);
  await shot('08-compare-charts-light.png');

  // High contrast: colours from the theme's variables, charts redrawn with them.
  await switchTheme(page, 'Dark High Contrast', 'hc-black');
  const contrastFrame = await compareFrame(page);
  const contrast = await drawnCharts(contrastFrame);
  const contrastBody = await contrastFrame.evaluate(() => document.body.classList.contains('vscode-high-contrast'));
  const contrastColours = await chartColours(contrastFrame);
  const recoloured = JSON.stringify(contrastColours) !== JSON.stringify(lightColours);
  // Each run its own colour, even where the theme gives two chart colours one value.
  const markers = await contrastFrame.evaluate(() => [...document.querySelectorAll('.chart')[0].querySelectorAll('.u-series:not(:first-child) .u-marker')].map((m) => getComputedStyle(m).borderColor));
  check(markers.length === 3 && new Set(markers).size === 3, `in high contrast every run has its own colour (${JSON.stringify(markers)})`);
  check(contrastBody && recoloured && contrast.length >= 3 && contrast.every((n) => n > 200), `charts are drawn again, in other colours, in a high-contrast theme (${contrastColours.length} colours, ${JSON.stringify(contrast)})`);
  await shot('08b-compare-high-contrast.png');

  // A window reload: the panel comes back from its saved state through the serializer.
  await reloadWindow(page);
  await page.locator('.tabs-container .tab', { hasText: 'Compare:' }).first().click({ timeout: 60_000 });
  const restored = await compareFrame(page);
  const restoredNames = await restored.evaluate(() => [...document.querySelectorAll('table.runs .name')].map((n) => n.textContent));
  check(JSON.stringify(restoredNames) === JSON.stringify(header), `after a window reload the Compare panel is restored with its runs (${JSON.stringify(restoredNames)})`);
}

/**
 * Clicks a tree row's inline action. A row redraws every second while a run is live, and a redraw
 * can hide its inline actions between the hover and the click: hover again and retry.
 */
async function clickInlineAction(page, row, label) {
  for (let attempt = 0; ; attempt++) {
    await page.mouse.move(0, 0);
    await row.hover();
    const clicked = await row.locator(`.action-label[aria-label^="${label}"]`).click({ timeout: 3000 }).then(() => true, () => false);
    if (clicked) return;
    if (attempt === 5) throw new Error(`the ${label} action could not be clicked`);
  }
}

/** The demo's reproduction of baseline: filed under it with its verdict, and its report on top of Compare. */
async function reproductionTest(page, shot) {
  const view = '[id="workbench.view.extension.runlens"]';
  const row = (name) => page.locator(`${view} .monaco-list-row`, { hasText: name }).first();
  await page.keyboard.press('Escape');
  await row('baseline').click();
  const reproduction = row('baseline (reproduction)');
  await reproduction.waitFor({ timeout: 30_000 });
  const description = await reproduction.locator('.label-description').innerText();
  const level = (locator) => locator.getAttribute('aria-level');
  check(/^reproduced · loss /.test(description) && Number(await level(reproduction)) > Number(await level(row('baseline'))), `a reproduction is filed under its original with its verdict (${description})`);
  await reproduction.click();
  await row('baseline').click({ modifiers: ['Control'] });
  await page.locator(`${view} .pane-header .action-label[aria-label^="Compare Runs"]`).first().click();
  const frame = await compareFrame(page, 'Comparing 2 runs');
  await frame.waitForSelector('#verdict', { timeout: 30_000 });
  const verdict = await frame.evaluate(() => [document.querySelector('#verdict')?.textContent, [...document.querySelectorAll('table.agreement td.key')].map((td) => td.textContent)]);
  check(verdict[0]?.startsWith('Reproduced') && verdict[1].includes('loss') && verdict[1].includes('acc'), `Compare shows the reproduction report on top (${JSON.stringify(verdict)})`);
  await shot('14-reproduction-report.png');

  // One click from a run's panel: Reproduce re-runs it and opens the report.
  await clickInlineAction(page, row('faster-lr'), 'Show Run');
  const runFrame = await compareFrame(page, 'Run faster-lr');
  await runFrame.locator('#reproduce').click();
  await page.locator('.tabs-container .tab', { hasText: 'faster-lr (reproduction)' }).waitFor({ timeout: 60_000 });
  let reportText = null;
  for (let i = 0; i < 120 && !reportText; i++) {
    for (const f of page.frames()) {
      const text = await f.evaluate(() => (document.querySelector('table.runs')?.textContent?.includes('faster-lr (reproduction)') ? document.querySelector('#verdict')?.textContent : null)).catch(() => null);
      if (text) reportText = text;
    }
    if (!reportText) await page.waitForTimeout(250);
  }
  check(reportText?.startsWith('Reproduced') === true, `the Reproduce button of a run's panel re-runs it and shows the report (${reportText})`);
  await shot('15-reproduce-from-run-panel.png');
}

/** A run still running, shown in its own panel: its metrics move on screen while it trains. */
async function liveRunTest(page, shot) {
  const script = 'import json, time\nfor s in range(120):\n    print(json.dumps({"step": s, "loss": 1 / (s + 1)}), flush=True)\n    time.sleep(0.25)\n';
  fs.writeFileSync(path.join(wsUi, 'live_train.py'), script);
  const live = spawn('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', 'live-run', '--', 'python3', 'live_train.py'], { cwd: wsUi, stdio: 'ignore' });
  try {
    const view = '[id="workbench.view.extension.runlens"]';
    const row = page.locator(`${view} .monaco-list-row`, { hasText: 'live-run' }).first();
    await row.waitFor({ timeout: 30_000 });
    await clickInlineAction(page, row, 'Show Run');
    await page.locator('.tabs-container .tab', { hasText: 'Run: live-run' }).waitFor({ timeout: 30_000 });
    const frame = await compareFrame(page, 'Run live-run');
    const lossCell = () => frame.evaluate(() => [...document.querySelectorAll('table.metrics tr')].find((tr) => tr.querySelector('td.key')?.textContent === 'loss')?.querySelectorAll('td')[1]?.textContent ?? '');
    await frame.waitForFunction(() => [...document.querySelectorAll('table.metrics td.key')].some((td) => td.textContent === 'loss'), null, { timeout: 30_000 });
    // How fast it moves is the bench's business; here it must move at all, while the run trains.
    const first = await lossCell();
    const moved = await happened(frame.waitForFunction((was) => [...document.querySelectorAll('table.metrics tr')].find((tr) => tr.querySelector('td.key')?.textContent === 'loss')?.querySelectorAll('td')[1]?.textContent !== was, first, { timeout: 30_000 }));
    check(moved, `a live run's metric moves on screen while it trains (${first} → ${await lossCell()})`);
    const out = await frame.evaluate(() => document.getElementById('stdout')?.textContent ?? '');
    check(out.includes('"loss"'), 'the run panel shows the output tail');
    await frame.evaluate(() => document.querySelector('#charts')?.scrollIntoView());
    await page.waitForTimeout(500);
    await shot('10-live-run.png');
  } finally {
    live.kill('SIGINT');
  }
}

async function uiTests() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (e) => log('pageerror:', e.message));
  const view = '[id="workbench.view.extension.runlens"]';
  const rows = () => page.locator(`${view} .monaco-list-row`);
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name) });
  const palette = async (title, pick) => {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill(`>RunLens: ${title}`);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 30_000 });
    await page.keyboard.press('Enter');
    for (const text of pick ?? []) {
      await page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first().waitFor({ timeout: 30_000 });
      await input.fill(text);
      await page.waitForTimeout(300);
      await page.keyboard.press('Enter');
    }
  };
  const onFailure = () => shot(`error-${Date.now()}.png`);
  await step('the sidebar', async () => {
    await openRunLens(page, base, wsUi);
    await page.locator(`${view} .monaco-list-row`, { hasText: 'bias-prior-wip' }).first().waitFor({ timeout: 60_000 });
    const labels = await page.locator(`${view} .monaco-list-row .label-name`).allInnerTexts();
    log('tree:', JSON.stringify(labels));
    check(['main', 'too-hot', 'bias-prior-wip', 'faster-lr', 'baseline', 'logistic'].every((l) => labels.includes(l)), 'the sidebar shows the branch, the runs and the model');
    const desc = await page.locator(`${view} .monaco-list-row`, { hasText: 'faster-lr' }).first().locator('.label-description').innerText();
    check(/^loss 0\.29/.test(desc), `a run shows its primary metric (${desc})`);
    const bidiRow = await page.locator(`${view} .monaco-list-row .label-name`).allInnerTexts();
    check(bidiRow.includes('report\\u202egnp.exe') && !bidiRow.some((l) => l.includes('\u202E')), `a name with a bidi override shows the control, not reversed text (${JSON.stringify(bidiRow.filter((l) => l.startsWith('report')))})`);
    await shot('01-runs-and-models.png');
  }, onFailure);
  await step('a run\'s code changes', async () => {

    await page.locator(`${view} .monaco-list-row`, { hasText: 'bias-prior-wip' }).first().click();
    await rows().filter({ hasText: 'Code' }).first().waitFor({ timeout: 30_000 });
    // The run's tooltip (built on hover) can cover the row below it: move away and let it close first.
    await page.mouse.move(700, 5);
    const hover = page.locator('.context-view .monaco-hover, .workbench-hover').first();
    if (!(await happened(hover.waitFor({ state: 'hidden', timeout: 5000 })))) {
      await page.keyboard.press('Escape');
      await hover.waitFor({ state: 'hidden', timeout: 5000 });
    }
    await rows().filter({ hasText: 'Code' }).first().click();
    check(await happened(rows().filter({ hasText: 'NOTES.md' }).first().waitFor({ timeout: 30_000 })), 'expanding a run shows its code changes, untracked NOTES.md included');
    await shot('02-run-expanded.png');
  }, onFailure);
  await step('a changed file\'s diff', async () => {

    await rows().filter({ hasText: 'train.py' }).first().click();
    const diffTab = page.locator('.tabs-container .tab', { hasText: 'HEAD ↔ bias-prior-wip' });
    await diffTab.waitFor({ timeout: 30_000 });
    const modifiedSide = page.locator('.editor-instance .monaco-diff-editor .editor.modified .view-lines').first();
    await modifiedSide.filter({ hasText: 'bias prior' }).waitFor({ timeout: 30_000 });
    const original = await page.locator('.editor-instance .monaco-diff-editor .editor.original .view-lines').first().innerText();
    check(original.includes('argparse') && !original.includes('bias prior'), 'a changed file opens as a diff: HEAD (its own text) without the edit, the run with it');
    await shot('03-changed-file-diff.png');
  }, onFailure);
  await step('Open File at Run', async () => {

    await palette('Open File at Run', ['baseline', 'config.json']);
    await page.locator('.tabs-container .tab', { hasText: 'config.json' }).waitFor({ timeout: 30_000 });
    const shown = await page.locator('.editor-instance .view-lines', { hasText: 'max_loss' }).first().waitFor({ timeout: 30_000 }).then(() => true, () => false);
    check(shown, 'Open File at Run shows the file as it was in the run');
    await shot('04-open-file-at-run.png');
  }, onFailure);
  await step('Compare Run with Workspace', async () => {

    await palette('Compare Run with Workspace', ['baseline']);
    await page.locator('.tabs-container .tab', { hasText: 'baseline ↔ Workspace' }).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(1500);
    const multi = await page.locator('.editor-instance').first().innerText();
    check(multi.includes('train.py') && multi.includes('NOTES.md'), 'Compare Run with Workspace opens the multi-file diff with train.py and the untracked NOTES.md');
    await shot('05-multi-file-diff.png');
  }, onFailure);
  await step('the Compare panel', () => comparePanelTests(page, shot), onFailure);
  await step('a live run', () => liveRunTest(page, shot), onFailure);
  await step('a reproduction', () => reproductionTest(page, shot), onFailure);
  await page.close();
}

/** In a workspace the user does not trust, runs can be browsed but nothing is started. */
async function untrustedTests() {
  const wsUntrusted = path.join(WORK, 'ws-untrusted');
  execFileSync('bash', [path.join(ROOT, 'scripts', 'demo-workspace.sh'), wsUntrusted], { stdio: 'ignore' });
  const server = await startServer('untrusted', wsUntrusted, { trust: true });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const onFailure = () => page.screenshot({ path: path.join(SHOTS, `error-untrusted-${Date.now()}.png`) });
  await step('Restricted Mode', async () => {
    await page.goto(`${server.base}/?folder=${encodeURIComponent(wsUntrusted)}`, { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
    // Depending on the trust prompt setting, VS Code asks first or opens straight in Restricted Mode.
    const decline = page.locator('.monaco-dialog-box .monaco-button', { hasText: /don.t trust/i }).first();
    if (await decline.waitFor({ timeout: 10_000 }).then(() => true, () => false)) await decline.click();
    const restricted = await page.locator('.statusbar', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30_000 }).then(() => true, () => false);
    check(restricted, 'the workspace is open in Restricted Mode');
  }, onFailure);
  await step('runs and commands in Restricted Mode', async () => {
    await showRunLens(page);
    const view = '[id="workbench.view.extension.runlens"]';
    check(await happened(page.locator(`${view} .monaco-list-row`, { hasText: 'bias-prior-wip' }).first().waitFor({ timeout: 60_000 })), 'in an untrusted workspace the recorded runs are still shown');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill('>RunLens: Open File at Run');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Open File at Run' }).first().waitFor({ timeout: 30_000 });
    // An absence is only seen once the list has answered. When its filter finds no such command the palette
    // ends with rows marked "similar commands", so the check waits for those instead of sleeping. The trusted
    // control is the demo suite: the same queries there find both commands.
    const answersNothingFor = async (query) => {
      await input.fill(query);
      const answered = await happened(page.locator('.quick-input-list .monaco-list-row', { hasText: 'similar commands' }).first().waitFor({ timeout: 30_000 }));
      return { answered, rows: await page.locator('.quick-input-list .monaco-list-row').allInnerTexts() };
    };
    const training = await answersNothingFor('>RunLens: Run Training');
    check(training.answered && !training.rows.some((row) => row.includes('Run Training')), `Run Training is not offered in Restricted Mode (answered: ${training.answered}, rows: ${JSON.stringify(training.rows)})`);
    const reproduce = await answersNothingFor('>RunLens: Reproduce Run');
    check(reproduce.answered && !reproduce.rows.some((row) => row.includes('Reproduce Run')), `Reproduce Run is not offered in Restricted Mode (answered: ${reproduce.answered}, rows: ${JSON.stringify(reproduce.rows)})`);
    await page.keyboard.press('Escape');
    await page.screenshot({ path: path.join(SHOTS, '09-untrusted-workspace.png') });
  }, onFailure);
  await page.close();
  server.stop();
}

/** The frame of the Runs table, once its page has rendered. */
async function tableFrame(page, failure) {
  for (let i = 0; i < 240; i++) {
    for (const f of page.frames()) {
      if (await f.evaluate(() => Boolean(document.getElementById('scroller'))).catch(() => false)) return f;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(failure);
}

/** A notification holding `text`, as a toast or, once toasts hide, in the notification center. */
async function waitForNotification(page, text, tries = 60) {
  for (let i = 0; i < tries; i++) {
    if (await page.locator('.notifications-toasts .notification-toast', { hasText: text }).count()) return;
    await page.keyboard.press('Escape');
    await page.locator('.statusbar-item[id="status.notifications"] a, .statusbar-item[id="status.notifications"]').first().click();
    if (await page.locator('.notifications-center .notification-list-item', { hasText: text }).first().waitFor({ timeout: 1000 }).then(() => true, () => false)) return;
  }
  throw new Error(`no notification "${text}"`);
}

/** Opens the palette (F1) or quick open (Control+P), types `text` and runs the first row holding `pick`. */
async function quickInput(page, key, text, pick) {
  await page.keyboard.press(key);
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30_000 });
  await input.fill(text);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: pick }).first();
  await row.waitFor({ timeout: 60_000 });
  await row.click();
}

/**
 * Developer: Reload Window, as a user reloads: the workbench saves its open editors on the way
 * out, so the panels must come back through their serializers. A bare page reload could beat the
 * workbench's storage flush and lose the editors (seen once in CI).
 */
async function reloadWindow(page) {
  await page.locator('.statusbar').click({ position: { x: 600, y: 10 } }).catch(() => {});
  const navigated = page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 120_000 });
  await quickInput(page, 'F1', '>Developer: Reload Window', 'Reload Window');
  await navigated;
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
}

/** The Runs table over 10,000 runs: virtualized, sorted and filtered by the index, and a door to Compare. */
async function tableTests() {
  const wsTable = path.join(WORK, 'ws-table');
  generateRuns(wsTable, 10_000);
  // A repository of its own: inside another one, RunLens would look for runs at that one's root.
  execFileSync('git', ['init', '-q', '-b', 'main', wsTable]);
  const server = await startServer('table', wsTable);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name) });
  const onFailure = () => shot(`error-table-${Date.now()}.png`);
  let frame;
  let expected;
  await step('the Runs table', async () => {
    // The palette lists what was registered when it opened: let RunLens load first.
    await openRunLens(page, server.base, wsTable);
    await page.locator('[id="workbench.view.extension.runlens"] .monaco-list-row', { hasText: 'sweep-09999' }).first().waitFor({ timeout: 120_000 });
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill('>RunLens: Runs Table');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Runs Table' }).first().waitFor({ timeout: 60_000 });
    await page.keyboard.press('Enter');
    frame = await tableFrame(page, 'the Runs table did not render');
    await frame.waitForFunction(() => document.querySelector('.count')?.textContent === '10,000 runs', null, { timeout: 60_000 });
    const inDom = await frame.evaluate(() => document.querySelectorAll('.window .row').length);
    check(inDom > 10 && inDom < 120, `10,000 runs listed, ${inDom} rows in the DOM (virtualized)`);
    await shot('11-runs-table.png');
    await frame.evaluate(() => {
      const s = document.getElementById('scroller');
      s.scrollTop = s.scrollHeight;
    });
    check(await happened(frame.waitForFunction(() => [...document.querySelectorAll('.window .row')].some((r) => r.dataset.index === '9999' && r.children[0].textContent === 'sweep-00000'), null, { timeout: 10_000 })), 'scrolling to the end shows the last run, its row asked for and filled in');
  }, onFailure);
  await step('sorting and filtering the table', async () => {
    await frame.locator('.row.header .cell', { hasText: 'acc' }).first().click();
    await frame.waitForFunction(() => document.querySelector('.row.header')?.textContent.includes('acc ▼'), null, { timeout: 30_000 });
    await frame.evaluate(() => { document.getElementById('scroller').scrollTop = 0; });
    await page.waitForTimeout(300);
    const top = await frame.evaluate(() => {
      const headers = [...document.querySelectorAll('.row.header .cell')].map((c) => c.textContent);
      const col = headers.findIndex((h) => h.startsWith('acc'));
      return [...document.querySelectorAll('.window .row')].slice(0, 5).map((r) => Number(r.children[col].textContent));
    });
    check(top.length === 5 && top.every((v, i) => i === 0 || top[i - 1] >= v) && top[0] > 0.99, `sorted by acc, highest first (${JSON.stringify(top)})`);
    await frame.locator('vscode-textfield input').fill('status = failed and params.optimizer = sgd');
    await frame.locator('vscode-textfield input').press('Enter');
    await frame.waitForFunction(() => /^[\d,]+ runs?$/.test(document.querySelector('.count')?.textContent ?? '') && document.querySelector('.count')?.textContent !== '10,000 runs', null, { timeout: 30_000 });
    const filtered = await frame.evaluate(() => document.querySelector('.count')?.textContent);
    expected = Array.from({ length: 10_000 }, (_, i) => i).filter((i) => i % 17 === 0 && i % 2 === 1).length;
    check(filtered === `${expected.toLocaleString('en-US')} runs`, `the query language filters the table (${filtered}, expected ${expected})`);
  }, onFailure);
  await step('from the table to Compare', async () => {
    const rowsNow = frame.locator('.window .row');
    await rowsNow.nth(0).click();
    await rowsNow.nth(1).click({ modifiers: ['Control'] });
    await rowsNow.nth(2).click({ modifiers: ['Control'] });
    await frame.locator('#compare').click();
    await page.locator('.tabs-container .tab', { hasText: 'Compare:' }).waitFor({ timeout: 30_000 });
    const compared = await compareFrame(page);
    const names = await compared.evaluate(() => [...document.querySelectorAll('table.runs .name')].map((n) => n.textContent));
    check(names.length === 3 && names.every((n) => /^sweep-\d{5}$/.test(n)), `three selected rows open in Compare (${JSON.stringify(names)})`);
    await shot('12-table-to-compare.png');
  }, onFailure);
  const grown = () => `${(expected + 1).toLocaleString('en-US')} runs`;
  await step('a new run reaches the table', async () => {

    // A run appears that the filter selects: the table gets only what changed, not 10,000 rows again.
    await frame.evaluate(() => {
      window.seenMessages = [];
      window.addEventListener('message', (event) => window.seenMessages.push(event.data?.type));
    });
    const runsDir = path.join(wsTable, '.runlens', 'runs');
    const template = fs.readdirSync(runsDir).map((id) => JSON.parse(fs.readFileSync(path.join(runsDir, id, 'run.json'), 'utf8'))).find((r) => r.status === 'failed' && r.params.optimizer === 'sgd');
    const newId = `${template.id.slice(0, 10)}zzzzzzzzzzzzzzzz`;
    template.id = newId;
    template.name = 'arrived-later';
    template.metricsSummary.metrics.acc.last = 0.99999;
    fs.mkdirSync(path.join(runsDir, newId));
    fs.writeFileSync(path.join(runsDir, newId, 'run.json'), JSON.stringify(template));
    await frame.waitForFunction((text) => document.querySelector('.count')?.textContent === text, grown(), { timeout: 30_000 });
    const seen = await frame.evaluate(() => window.seenMessages);
    const firstRow = await frame.evaluate(() => document.querySelector('.window .row .cell')?.textContent);
    check(seen.length > 0 && seen.every((t) => t === 'patch') && firstRow === 'arrived-later', `a new run reaches the open table as a patch (${JSON.stringify(seen)}), at its place (${firstRow})`);
  }, onFailure);
  await step('the table after a window reload', async () => {

    // A window reload: the table comes back with its filter and sort (the host keeps the last query).
    await reloadWindow(page);
    await page.locator('.tabs-container .tab', { hasText: 'Runs Table' }).first().click({ timeout: 60_000 });
    const revived = await tableFrame(page, 'the Runs table did not come back after a reload');
    await revived.waitForFunction((text) => document.querySelector('.count')?.textContent === text, grown(), { timeout: 60_000 });
    const restoredState = await revived.evaluate(() => [document.querySelector('#where')?.value, document.querySelector('.row.header')?.textContent.includes('acc ▼')]);
    check(restoredState[0] === 'status = failed and params.optimizer = sgd' && restoredState[1] === true, `after a window reload the Runs table is restored with its filter and sort (${grown()}, ${JSON.stringify(restoredState)})`);
    await shot('13-table-restored.png');
    frame = revived;
  }, onFailure);
  await step('a live run in the table: its cells move, and it leaves a "status = running" filter when it ends', async () => {
    // Sorted by acc, which the live run changes: the order is asked again; the rows are not.
    await frame.locator('vscode-textfield input').fill('status = running');
    await frame.locator('vscode-textfield input').press('Enter');
    await frame.waitForFunction(() => document.querySelector('.count')?.textContent === '0 runs', null, { timeout: 30_000 });
    const script = 'import json, sys, time\nfor s in range(40):\n    print(json.dumps({"step": s, "acc": round(0.5 + s / 100, 2)}), flush=True)\n    time.sleep(0.25)\nsys.exit(1)\n';
    fs.writeFileSync(path.join(wsTable, 'live_table.py'), script);
    const live = spawn('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', 'live-in-table', '--', 'python3', 'live_table.py'], { cwd: wsTable, stdio: 'ignore' });
    try {
      await frame.waitForFunction(() => document.querySelector('.count')?.textContent === '1 run' && document.querySelector('.window .row .cell')?.textContent === 'live-in-table', null, { timeout: 60_000 });
      const accCell = () => frame.evaluate(() => {
        const headers = [...document.querySelectorAll('.row.header .cell')].map((c) => c.textContent);
        return document.querySelector('.window .row')?.children[headers.findIndex((h) => h.startsWith('acc'))]?.textContent ?? '';
      });
      await frame.waitForFunction(() => [...document.querySelectorAll('.row.header .cell')].some((c) => c.textContent.startsWith('acc')), null, { timeout: 30_000 });
      const first = await accCell();
      const moved = await happened(frame.waitForFunction((was) => {
        const headers = [...document.querySelectorAll('.row.header .cell')].map((c) => c.textContent);
        const now = document.querySelector('.window .row')?.children[headers.findIndex((h) => h.startsWith('acc'))]?.textContent;
        return now && now !== was;
      }, first, { timeout: 30_000 }));
      check(moved, `a live run's acc moves in the open table (${first} → ${await accCell()})`);
      await shot('13b-table-live-run.png');
      const left = await happened(frame.waitForFunction(() => document.querySelector('.count')?.textContent === '0 runs', null, { timeout: 60_000 }));
      check(left, `the run leaves the "status = running" table when it ends (${await frame.evaluate(() => document.querySelector('.count')?.textContent)})`);
    } finally {
      live.kill('SIGINT');
    }
  }, onFailure);
  await step('the Runs view pages a group of 10,000 runs', async () => {
    const view = '[id="workbench.view.extension.runlens"]';
    // The focused row's label and description, or null when no row has the focus.
    const focused = () => page.evaluate((sel) => {
      const row = document.querySelector(`${sel} .monaco-list-row.focused`);
      return row ? { label: row.querySelector('.label-name')?.textContent ?? '', description: row.querySelector('.label-description')?.textContent ?? '' } : null;
    }, view);
    // End focuses the last row and brings it into view; pressed again if a redraw moved the focus.
    const focusLast = async (description) => {
      for (let i = 0; i < 10; i++) {
        await page.keyboard.press('End');
        await page.waitForTimeout(300);
        if ((await focused())?.description.startsWith(description)) return;
      }
      throw new Error(`the last row is not "${description}…" but ${JSON.stringify(await focused())}`);
    };
    await page.locator(`${view} .monaco-list-row`, { hasText: 'sweep-09999' }).first().click();
    await page.mouse.move(0, 0);
    await focusLast('200 of');
    const more = await focused();
    check(more.label === 'Show 200 More' && /^200 of 10,00\d shown/.test(more.description), `the group lists 200 runs, then a Show More row (${more.label} · ${more.description})`);
    await shot('13c-runs-view-paged.png');
    // Enter on the row runs its command, as a click does.
    await page.keyboard.press('Enter');
    await focusLast('400 of');
    await page.keyboard.press('ArrowUp');
    await page.waitForTimeout(200);
    const lastRun = (await focused())?.label;
    check(/^sweep-09(59|60)\d$/.test(lastRun ?? ''), `Show More brings the next 200 runs: the 400th is the last shown (${lastRun})`);
  }, onFailure);
  await page.close();
  server.stop();
}

/**
 * `npm run demo` as a newcomer runs it: scripts/demo.sh builds, makes the demo repository and serves
 * it. The workspace opens trusted: no Restricted Mode, and Run Training is offered (the same palette
 * query that the untrusted test expects to find nothing for).
 */
async function demoTests() {
  const demoDir = path.join(WORK, 'demo');
  const port = await freePort();
  const logFile = path.join(WORK, 'logs', 'demo.log');
  const demo = spawn('bash', [path.join(ROOT, 'scripts', 'demo.sh')], {
    detached: true, stdio: ['ignore', fs.openSync(logFile, 'w'), fs.openSync(logFile, 'a')],
    env: { ...process.env, PORT: String(port), DEMO_DIR: demoDir, DEMO_STATE_DIR: path.join(WORK, 'demo-vscode') },
  });
  const stopDemo = () => {
    try {
      process.kill(-demo.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    const base = `http://127.0.0.1:${port}`;
    let up = false;
    for (let i = 0; i < 480 && !up && demo.exitCode === null; i++) {
      up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 250));
    }
    if (!up) throw new Error(`npm run demo did not serve (see ${logFile}):\n${fs.readFileSync(logFile, 'utf8').slice(-2000)}`);
    const printed = fs.readFileSync(logFile, 'utf8');
    check(printed.includes(`http://127.0.0.1:${port}/?folder=${demoDir}`), 'the demo prints the address to open');
    await openRunLens(page, base, demoDir);
    await page.locator('[id="workbench.view.extension.runlens"] .monaco-list-row', { hasText: 'baseline' }).first().waitFor({ timeout: 60_000 });
    const restricted = await page.locator('.statusbar', { hasText: 'Restricted Mode' }).count();
    const trustDialog = await page.locator('.monaco-dialog-box', { hasText: /trust/i }).count();
    check(restricted === 0 && trustDialog === 0, `the demo workspace opens trusted: no Restricted Mode, no trust prompt (${restricted}, ${trustDialog})`);
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30_000 });
    await input.fill('>RunLens: Run Training');
    const offered = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Run Training' }).first().waitFor({ timeout: 30_000 }).then(() => true, () => false);
    await input.fill('>RunLens: Reproduce Run');
    const reproduce = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Reproduce Run' }).first().waitFor({ timeout: 30_000 }).then(() => true, () => false);
    check(offered && reproduce, `in the demo, Run Training and Reproduce Run are offered (${offered}, ${reproduce})`);
    await page.screenshot({ path: path.join(SHOTS, '16-demo-trusted.png') });
    await page.keyboard.press('Escape');
  } catch (err) {
    check(false, `npm run demo: ${err.stack ?? err}`);
    await page.screenshot({ path: path.join(SHOTS, 'error-demo.png') }).catch(() => {});
  } finally {
    await page.close();
    stopDemo();
  }
}

/**
 * Imported runs beside a recorded one: real MLflow and Lightning logs (the test fixtures) imported with the
 * CLI into a workspace of their own, then seen in the Runs view and compared with a run RunLens recorded.
 */
async function importTests() {
  const wsImport = path.join(WORK, 'ws-import');
  fs.mkdirSync(wsImport, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', wsImport]);
  const logs = path.join(ROOT, 'test', 'fixtures', 'real-logs');
  fs.cpSync(path.join(logs, 'mlflow', '2025-2-productos__PRE-07-mlflow-tracking-basico-LissyGraceRestrepo', 'mlruns'), path.join(wsImport, 'mlruns'), { recursive: true });
  fs.cpSync(path.join(logs, 'lightning', 'Driemann__ml-aos', 'lightning_logs'), path.join(wsImport, 'lightning_logs'), { recursive: true });
  // Left for the editor to find: it offers to import what the CLI did not.
  fs.cpSync(path.join(logs, 'hf', 'Dheena731__tinyLlama-finetune'), path.join(wsImport, 'results', 'tinyllama'), { recursive: true });
  fs.writeFileSync(path.join(wsImport, 'train.py'), 'import json\nfor s in range(50):\n    print(json.dumps({"step": s, "test_r2": 0.05 + s / 400, "test_mae": 0.7 - s / 500}))\n');
  // Grouped by where each run came from, as a user with imported runs would choose.
  fs.mkdirSync(path.join(wsImport, '.vscode'));
  fs.writeFileSync(path.join(wsImport, '.vscode', 'settings.json'), JSON.stringify({ 'runlens.runs.groupBy': 'source' }));
  execFileSync('git', ['-C', wsImport, 'add', 'train.py']);
  execFileSync('git', ['-C', wsImport, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'commit', '-qm', 'train']);
  execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', 'recorded-here', '--', 'python3', 'train.py'], { cwd: wsImport });
  const imported = execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), 'import', 'mlruns', 'lightning_logs'], { cwd: wsImport, encoding: 'utf8' });
  check(/mlflow mlruns: 3 run\(s\) \(3 added/.test(imported) && (imported.match(/^lightning /gm) ?? []).length === 4, `runlens import reads the MLflow store and the four Lightning versions (${imported.trim().split('\n').length} lines)`);
  const server = await startServer('import', wsImport);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name) });
  const view = '[id="workbench.view.extension.runlens"]';
  const row = (name) => page.locator(`${view} .monaco-list-row`, { hasText: name }).first();
  try {
    await step('imported runs in the Runs view', async () => {
      await openRunLens(page, server.base, wsImport);
      const shown = await happened(row('elasticnet_04011cf0').waitFor({ timeout: 60_000 }));
      const recorded = await happened(row('recorded-here').waitFor({ timeout: 30_000 }));
      const lightning = await happened(row('lightning_logs/version_3').waitFor({ timeout: 30_000 }));
      check(shown && recorded && lightning, `the Runs view lists MLflow and Lightning runs beside the recorded one (${shown}, ${lightning}, ${recorded})`);
      const groups = await page.locator(`${view} .monaco-list-row[aria-level="1"]`).allTextContents();
      const named = (label, runs) => groups.some((g) => g.startsWith(label) && g.includes(`${runs} run`));
      check(named('MLflow', 3) && named('Lightning', 4) && named('RunLens', 1), `grouped by source: MLflow 3, Lightning 4, RunLens 1 (${JSON.stringify(groups)})`);
      await shot('20-imported-runs.png');
    }, () => shot(`error-import-${Date.now()}.png`));
    await step('the editor offers to import the logs not imported yet', async () => {
      // A toast hides after a while; the notification center keeps it. It is looked for there.
      const text = 'RunLens found 1 run(s) in Hugging Face logs';
      const offered = await happened(waitForNotification(page, text));
      const toast = page.locator('.notifications-toasts .notification-toast, .notifications-center .notification-list-item', { hasText: text }).first();
      check(offered, 'a notification offers the trainer_state.json the CLI did not import');
      if (!offered) {
        await shot(`error-import-offer-${Date.now()}.png`);
        return;
      }
      await shot('23-import-offer.png');
      await toast.locator('.monaco-button', { hasText: /^Import$/ }).first().click();
      const imported = await happened(row('tinyllama').waitFor({ timeout: 60_000 }));
      check(imported, 'choosing Import brings the Hugging Face run into the Runs view');
    }, () => shot(`error-import-offer-${Date.now()}.png`));
    await step('the Runs table says where each run came from', async () => {
      await quickInput(page, 'F1', '>RunLens: Runs Table', 'Runs Table');
      const frame = await tableFrame(page, 'the Runs table did not render');
      await frame.waitForFunction(() => /runs$/.test(document.querySelector('.count')?.textContent ?? ''), null, { timeout: 60_000 });
      const header = await frame.evaluate(() => [...document.querySelectorAll('.row.header .cell')].map((c) => c.textContent));
      const sourceOf = (name) => frame.evaluate((n) => {
        const names = [...document.querySelectorAll('.row.header .cell')].map((c) => c.textContent);
        const row = [...document.querySelectorAll('.row:not(.header)')].find((r) => r.querySelectorAll('.cell')[0]?.textContent === n);
        return row ? row.querySelectorAll('.cell')[names.findIndex((h) => h.startsWith('source'))]?.textContent : null;
      }, name);
      const mlflow = await sourceOf('elasticnet_04011cf0');
      const recorded = await sourceOf('recorded-here');
      check(header.some((h) => h.startsWith('source')) && /^MLflow · /.test(mlflow ?? '') && recorded === 'RunLens', `a source column: MLflow with its experiment, RunLens for the recorded run (${JSON.stringify(header)}, ${mlflow}, ${recorded})`);
      await shot('24-imported-runs-table.png');
    }, () => shot(`error-import-table-${Date.now()}.png`));
    await step('Compare of an MLflow run and a RunLens run', async () => {
      await row('elasticnet_04011cf0').click();
      await row('recorded-here').click({ modifiers: ['Control'] });
      await page.locator(`${view} .pane-header .action-label[aria-label^="Compare Runs"]`).first().click();
      const frame = await compareFrame(page, 'Comparing 2 runs');
      const names = await frame.evaluate(() => [...document.querySelectorAll('table.runs .name')].map((n) => n.textContent));
      check(names.includes('elasticnet_04011cf0') && names.includes('recorded-here'), `Compare names the MLflow run and the recorded one (${JSON.stringify(names)})`);
      const drawn = await happened(frame.waitForSelector('.uplot', { timeout: 60_000 }));
      check(drawn, 'Compare draws the shared metrics of both runs, the MLflow points read from its store');
      await page.waitForTimeout(500);
      await shot('21-compare-mlflow-with-recorded.png');
    }, () => shot(`error-import-compare-${Date.now()}.png`));
    await step('a TensorBoard log written during a run moves its chart', async () => {
      // TensorBoard's writer is not installable here: a real event file is replayed, record by record, as a writer would.
      const events = path.join(logs, 'tensorboard', 'AtomScott__FractalDB', 'lightning_logs', 'version_0', 'events.out.tfevents.1609169139.e8fc262d1b07.21087.0');
      fs.writeFileSync(path.join(wsImport, 'replay.py'), [
        'import os, struct, sys, time',
        'data = open(sys.argv[1], "rb").read()',
        'os.makedirs("tb", exist_ok=True)',
        'out = open("tb/" + os.path.basename(sys.argv[1]), "wb")',
        'pos = n = 0',
        'while pos + 12 <= len(data):',
        '    length = struct.unpack("<Q", data[pos:pos + 8])[0]',
        '    out.write(data[pos:pos + 16 + length]); out.flush()',
        '    pos += 16 + length; n += 1',
        '    if n % 10 == 0: time.sleep(0.4)',
        'time.sleep(30)',
      ].join('\n') + '\n');
      const live = spawn('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', 'tb-live', '--', 'python3', 'replay.py', events], { cwd: wsImport, stdio: 'ignore' });
      try {
        const liveRow = row('tb-live');
        await liveRow.waitFor({ timeout: 30_000 });
        await clickInlineAction(page, liveRow, 'Show Run');
        const frame = await compareFrame(page, 'Run tb-live');
        const count = () => frame.evaluate(() => [...document.querySelectorAll('table.metrics tr')].find((tr) => tr.querySelector('td.key')?.textContent === 'train_loss_step')?.querySelectorAll('td')[1]?.textContent ?? '');
        await frame.waitForFunction(() => [...document.querySelectorAll('table.metrics td.key')].some((td) => td.textContent === 'train_loss_step'), null, { timeout: 60_000 });
        const first = await count();
        const moved = await happened(frame.waitForFunction((was) => [...document.querySelectorAll('table.metrics tr')].find((tr) => tr.querySelector('td.key')?.textContent === 'train_loss_step')?.querySelectorAll('td')[1]?.textContent !== was, first, { timeout: 45_000 }));
        check(moved, `the event file's scalars reach the live run's panel as they are written (${first} → ${await count()})`);
        await frame.evaluate(() => document.querySelector('#charts')?.scrollIntoView());
        await page.waitForTimeout(500);
        await shot('22-attached-tensorboard-live.png');
      } finally {
        live.kill('SIGINT');
      }
    }, () => shot(`error-import-live-${Date.now()}.png`));
  } finally {
    await page.close();
    server.stop();
  }
}

/**
 * Recording from where training starts in the editor: a `runlens` task from tasks.json run through
 * Run Task, and the Record Run CodeLens on a training script, whose run goes live in the tree.
 */
async function recordTests() {
  const wsRecord = path.join(WORK, 'ws-record');
  fs.mkdirSync(path.join(wsRecord, '.vscode'), { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', wsRecord]);
  fs.writeFileSync(path.join(wsRecord, 'train.py'), [
    'import json, sys, time',
    '',
    '',
    'def main():',
    '    steps = int(sys.argv[sys.argv.index("--steps") + 1]) if "--steps" in sys.argv else 30',
    '    for s in range(steps):',
    '        print(json.dumps({"step": s, "loss": 1.0 / (s + 1)}), flush=True)',
    '        time.sleep(0.25)',
    '',
    '',
    'if __name__ == "__main__":',
    '    main()',
    '',
  ].join('\n'));
  const tasksFile = path.join(wsRecord, '.vscode', 'tasks.json');
  const tasksJson = JSON.stringify({
    version: '2.0.0',
    tasks: [{ type: 'runlens', label: 'train small', command: 'python3 train.py --steps 4', name: 'from-task', params: { lr: 0.05 }, problemMatcher: [] }],
  }, null, 2);
  fs.writeFileSync(tasksFile, tasksJson);
  execFileSync('git', ['-C', wsRecord, 'add', '-A']);
  execFileSync('git', ['-C', wsRecord, '-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'commit', '-qm', 'train']);
  const server = await startServer('record', wsRecord);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name) });
  const view = '[id="workbench.view.extension.runlens"]';
  const runs = () => JSON.parse(execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), 'ls', '--json'], { cwd: wsRecord, encoding: 'utf8' }));
  try {
    await step('a runlens task from tasks.json, run from Run Task, is recorded', async () => {
      await openRunLens(page, server.base, wsRecord);
      // A palette opened while the workbench is still starting may list nothing: it is closed and opened again.
      const taskRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'train small' }).first();
      for (let attempt = 1; ; attempt++) {
        const listed = await (async () => {
          await quickInput(page, 'F1', '>Tasks: Run Task', 'Tasks: Run Task');
          await taskRow.waitFor({ timeout: 20_000 });
        })().then(() => true, () => false);
        if (listed) break;
        if (attempt === 5) throw new Error('Run Task never listed the tasks.json task');
        await page.keyboard.press('Escape');
        // Seen in CI and once here: a workbench that came up without its user settings (high-contrast
        // theme, no command center) listed no configured task however often tasks.json was written
        // again. Every other try loads the page again; the ones between write the file again.
        if (attempt % 2) {
          fs.writeFileSync(tasksFile, attempt % 4 === 1 ? `${tasksJson}\n` : tasksJson);
          await page.waitForTimeout(2000);
        } else {
          await openRunLens(page, server.base, wsRecord);
        }
      }
      await taskRow.click();
      const listed = await happened(page.locator(`${view} .monaco-list-row[aria-label^="from-task, finished"]`).first().waitFor({ timeout: 90_000 }));
      const run = runs().find((r) => r.name === 'from-task');
      check(listed && run?.status === 'finished' && run?.params?.lr === 0.05 && run?.metricsSummary?.metrics?.loss?.count === 4, `the task's run is in the Runs view, finished, with its param and 4 loss steps (${listed}, ${run?.status}, ${run?.params?.lr}, ${run?.metricsSummary?.metrics?.loss?.count})`);
      await page.waitForTimeout(500);
      await shot('25-task-recorded.png');
    }, () => shot(`error-record-task-${Date.now()}.png`));
    await step('the Record Run CodeLens records the open script, and its run goes live in the tree', async () => {
      await quickInput(page, 'Control+P', 'train.py', 'train.py');
      const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Record Run' }).first();
      const shown = await happened(lens.waitFor({ timeout: 60_000 }));
      check(shown, 'a Record Run CodeLens sits above the __main__ block of train.py');
      await lens.click();
      const argsBox = page.locator('.quick-input-widget input');
      await argsBox.waitFor({ state: 'visible', timeout: 30_000 });
      await argsBox.fill('--steps 40');
      await page.keyboard.press('Enter');
      const live = page.locator(`${view} .monaco-list-row[aria-label*=", running"]`).first();
      const wentLive = await happened(live.waitFor({ timeout: 60_000 }));
      check(wentLive, 'the script runs in the RunLens terminal and its run shows as running in the tree');
      await page.waitForTimeout(2500);
      await shot('26-codelens-run-live.png');
      const remembered = await happened(page.locator('.monaco-editor .codelens-decoration a', { hasText: 'args: --steps 40' }).first().waitFor({ timeout: 30_000 }));
      check(remembered, 'the CodeLens shows the arguments it remembered for the file');
      const finished = await happened((async () => {
        for (let i = 0; i < 120; i++) {
          const run = runs().find((r) => r.command.includes('--steps') && r.command.includes('40'));
          if (run && run.status === 'finished') return;
          await page.waitForTimeout(500);
        }
        throw new Error('not finished');
      })());
      const run = runs().find((r) => r.command.includes('40'));
      check(finished && run?.metricsSummary?.metrics?.loss?.count === 40, `the CodeLens run finished with its 40 steps (${run?.status}, ${run?.metricsSummary?.metrics?.loss?.count})`);
    }, () => shot(`error-record-codelens-${Date.now()}.png`));
  } finally {
    await page.close();
    server.stop();
  }
}

/**
 * A teammate's run through the git remote: "alice" (a real other user: another uid, through setpriv)
 * records a run in her clone and pushes it; Pull Team Runs in the editor brings it in with its author.
 */
async function shareTests() {
  const dir = path.join(WORK, 'share');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const remote = path.join(dir, 'remote.git');
  const identity = { GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.invalid', GIT_CONFIG_GLOBAL: '/dev/null' };
  const gitRoot = (args, cwd) => execFileSync('git', args, { cwd, env: { ...process.env, ...identity } });
  gitRoot(['init', '-q', '--bare', '-b', 'main', remote], dir);
  const seed = path.join(dir, 'seed');
  gitRoot(['init', '-q', '-b', 'main', seed], dir);
  fs.writeFileSync(path.join(seed, 'train.py'), 'import json\nfor s in range(20):\n    print(json.dumps({"step": s, "loss": 2.0 / (s + 1)}))\n');
  gitRoot(['add', '-A'], seed);
  gitRoot(['commit', '-qm', 'train'], seed);
  gitRoot(['push', '-q', remote, 'main'], seed);
  execFileSync('chmod', ['-R', 'a+rwX', remote]);
  // Alice: another uid with no passwd entry (so $USER names her), her own clone and home.
  const alice = path.join(dir, 'alice');
  const aliceHome = path.join(dir, 'alice-home');
  for (const d of [alice, aliceHome]) {
    fs.mkdirSync(d);
    fs.chownSync(d, 4321, 4321);
  }
  // The remote belongs to root: alice's git trusts it through her own global config.
  fs.writeFileSync(path.join(aliceHome, '.gitconfig'), '[safe]\n\tdirectory = *\n');
  const asAlice = (args, cwd) =>
    execFileSync('setpriv', ['--reuid=4321', '--regid=4321', '--clear-groups', ...args], {
      cwd,
      env: { ...process.env, ...identity, USER: 'alice', HOME: aliceHome, GIT_CONFIG_GLOBAL: path.join(aliceHome, '.gitconfig') },
      encoding: 'utf8',
    });
  asAlice(['git', 'clone', '-q', remote, alice], dir);
  asAlice(['node', path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', 'alice-baseline', '--', 'python3', 'train.py'], alice);
  const pushed = asAlice(['node', path.join(ROOT, 'dist', 'cli.js'), 'push'], alice);
  check(/pushed \S+ alice-baseline/.test(pushed), `alice pushes her run (${pushed.trim().split('\n').pop()})`);
  // This workspace: a clone of the same remote with a run of its own.
  const mine = path.join(dir, 'mine');
  gitRoot(['clone', '-q', remote, mine], dir);
  execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), 'run', '--quiet', '--name', 'my-run', '--', 'python3', 'train.py'], { cwd: mine, env: { ...process.env, ...identity } });
  const server = await startServer('share', mine);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name) });
  const view = '[id="workbench.view.extension.runlens"]';
  try {
    await step("Pull Team Runs brings a teammate's run in, with its author", async () => {
      await openRunLens(page, server.base, mine);
      await page.locator(`${view} .monaco-list-row`, { hasText: 'my-run' }).first().waitFor({ timeout: 60_000 });
      await quickInput(page, 'F1', '>RunLens: Pull Team Runs', 'Pull Team Runs');
      const said = await happened(waitForNotification(page, '1 run(s) and 0 registry event(s) pulled from origin', 30));
      check(said, 'a notification says what was pulled from origin');
      await page.keyboard.press('Escape');
      const row = page.locator(`${view} .monaco-list-row`, { hasText: 'alice-baseline' }).first();
      const listed = await happened(row.waitFor({ timeout: 60_000 }));
      const text = listed ? await row.textContent() : '';
      check(listed && /alice@/.test(text ?? ''), `alice's run is in the Runs view with its author (${text})`);
      await page.mouse.move(0, 0);
      await row.locator('.label-name').first().hover();
      const tooltip = page.locator('.monaco-hover, .workbench-hover', { hasText: 'pulled from origin' }).first();
      const hovered = await happened(tooltip.waitFor({ timeout: 15_000 }));
      const tip = hovered ? ((await tooltip.textContent()) ?? '') : '';
      check(/by\s+alice@[^,\s]+,\s+pulled\s+from\s+origin/.test(tip), `the run's tooltip names its author and where it was pulled from (${hovered}: ${tip.slice(0, 160)})`);
      await shot('27-pulled-team-run.png');
    }, () => shot(`error-share-${Date.now()}.png`));
  } finally {
    await page.close();
    server.stop();
  }
}

/** What a position in the editor shows: the text of the view lines, with the text decorations put after them. */
async function viewLines(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll('.monaco-editor .view-lines .view-line')].map((line) => {
      let text = '';
      for (const span of line.querySelectorAll('span')) {
        const after = getComputedStyle(span, '::after').content;
        if (span.children.length === 0) text += span.textContent;
        if (after && after !== 'none' && after !== 'normal') text += JSON.parse(after);
      }
      return { top: parseFloat(line.style.top), text: text.replace(/\u00a0/g, ' ') };
    }).sort((a, b) => a.top - b.top).map((l) => l.text),
  );
}

/** Moves the mouse onto the first place the editor shows `needle` (spaces as the editor draws them), whatever spans the tokens make. */
async function hoverEditorText(page, needle) {
  for (let i = 0; i < 120; i++) {
    const at = await page.evaluate((wanted) => {
      for (const line of document.querySelectorAll('.monaco-editor .view-lines .view-line')) {
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        const nodes = [];
        let text = '';
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
          nodes.push([n, text.length]);
          text += n.textContent;
        }
        const index = text.replace(/\u00a0/g, ' ').indexOf(wanted);
        if (index < 0) continue;
        const [node, start] = nodes.filter(([, s]) => s <= index).pop();
        const range = document.createRange();
        range.setStart(node, index - start);
        range.setEnd(node, Math.min(node.textContent.length, index - start + 2));
        const rect = range.getBoundingClientRect();
        return { x: rect.left + rect.width / 2, y: rect.top + rect.height / 2 };
      }
      return null;
    }, needle);
    if (at) {
      await page.mouse.move(0, 0);
      await page.mouse.move(at.x, at.y, { steps: 4 });
      return;
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`the editor never showed ${needle}`);
}

/**
 * The code knows its runs, on the demo repository: the runs lens on train.py opens the table on
 * its runs; hovers on a flag and a config key list the values the runs used; run annotations
 * follow a line through an edit; "Which Runs Used This File?" lists the runs by blob.
 */
async function codeTests() {
  const wsCode = path.join(WORK, 'ws-code');
  execFileSync('bash', [path.join(ROOT, 'scripts', 'demo-workspace.sh'), wsCode], { stdio: 'ignore' });
  const cli = (...args) => execFileSync('node', [path.join(ROOT, 'dist', 'cli.js'), ...args], { cwd: wsCode, encoding: 'utf8' });
  const ofTrain = JSON.parse(cli('ls', '--json', '--where', 'script = "train.py"'));
  const trainPy = fs.readFileSync(path.join(wsCode, 'train.py'), 'utf8');
  const server = await startServer('code', wsCode);
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  const shot = (name) => page.screenshot({ path: path.join(SHOTS, name) });
  const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: 'RunLens' }).first();
  try {
    await step('the runs lens on train.py sums up its runs and opens the table on them', async () => {
      await openRunLens(page, server.base, wsCode);
      await quickInput(page, 'Control+P', 'train.py', 'train.py');
      const bestLoss = Math.min(...ofTrain.map((r) => r.metricsSummary.metrics.loss.last).filter((v) => typeof v === 'number'));
      const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: `${ofTrain.length} runs` }).first();
      const shown = await happened(lens.waitFor({ timeout: 60_000 }));
      const text = shown ? await lens.textContent() : '';
      check(shown && text.includes(`best loss ${Number(bestLoss.toPrecision(4))}`) && /last: \w+/.test(text), `the lens counts ${ofTrain.length} runs and names the best loss ${bestLoss} and the last (${text})`);
      check(await page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Compare last 5' }).count() > 0, 'a second lens offers Compare last 5');
      await lens.click();
      const frame = await tableFrame(page, 'the lens did not open the Runs table');
      const filtered = await happened(frame.waitForFunction((n) => document.querySelector('#where')?.value === 'script = "train.py"' && document.querySelector('.count')?.textContent === `${n} runs`, ofTrain.length, { timeout: 30_000 }));
      check(filtered, `the table is filtered to script = "train.py" and lists its ${ofTrain.length} runs`);
      await page.waitForTimeout(500);
      await shot('28-runs-lens-table.png');
    }, () => shot(`error-code-lens-${Date.now()}.png`));

    await step('the table\'s scatter and parallel coordinates draw its runs, and a brush selects runs that open in Compare', async () => {
      const frame = await tableFrame(page, 'no Runs table');
      const choose = (selector, value) => frame.evaluate(([sel, v]) => {
        const select = document.querySelector(sel);
        select.value = v;
        select.dispatchEvent(new Event('change', { bubbles: true }));
      }, [selector, value]);
      await frame.locator('#plot-toggle').click();
      await frame.locator('#plot-x').waitFor({ timeout: 15_000 });
      await choose('#plot-x', 'params.lr');
      await choose('#plot-y', 'metrics.acc');
      await choose('#plot-color', 'metrics.loss');
      const withBoth = ofTrain.filter((r) => typeof r.params.lr === 'number' && typeof r.metricsSummary?.metrics?.acc?.last === 'number').length;
      const drawnPixels = () => {
        const c = document.querySelector('#plot-canvas');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
        return n;
      };
      const drew = await happened(frame.waitForFunction((n) => {
        const c = document.querySelector('#plot-canvas');
        if (c?.dataset.points !== String(n)) return false;
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let drawn = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
        return drawn > 500;
      }, withBoth, { timeout: 15_000 }));
      const pixels = await frame.evaluate(drawnPixels);
      check(drew && pixels > 500, `the scatter of lr against acc draws one point per run with both (${withBoth}; ${pixels} pixels)`);
      await shot('34-table-scatter.png');
      await choose('#plot-mode', 'parallel');
      await frame.locator('#plot-axes').waitFor({ timeout: 15_000 });
      // The multi-select takes a value once its options are in: asked again until the plot has the three axes.
      const three = ['params.lr', 'metrics.acc', 'metrics.loss'];
      let lines = false;
      for (let i = 0; i < 20 && !lines; i++) {
        await choose('#plot-axes', three);
        lines = await happened(frame.waitForFunction(([n, want]) => document.querySelector('#plot-canvas')?.dataset.lines === String(n) && document.querySelector('#plot-canvas')?.dataset.axes === want, [ofTrain.length, three.join(',')], { timeout: 1500 }));
      }
      check(lines, `the parallel coordinates draw a line per run (${ofTrain.length}) on the axes lr, acc, loss`);
      // A brush on the lr axis (the first, on the left) over its lower part: the runs with a small lr.
      const box = await frame.locator('#plot-canvas').boundingBox();
      const small = ofTrain.filter((r) => r.params.lr <= 1).length;
      await page.mouse.move(box.x + 40, box.y + 320 - 24 + 4);
      await page.mouse.down();
      await page.mouse.move(box.x + 40, box.y + 200, { steps: 8 });
      await page.mouse.up();
      const brushed = await happened(frame.waitForFunction((n) => document.querySelector('#plot-canvas')?.dataset.brushed === String(n) && document.querySelector('.count')?.textContent === `${n} runs`, small, { timeout: 15_000 }));
      const button = await frame.locator('#compare').textContent();
      check(brushed && button.includes(`Compare ${small} runs`), `a brush on lr keeps the ${small} runs with a small lr, in the table and the selection (${button})`);
      await shot('35-table-parallel-brush.png');
      await frame.locator('#compare').click();
      const compare = await compareFrame(page);
      const names = await compare.evaluate(() => [...document.querySelectorAll('table.runs .name')].map((n) => n.textContent));
      check(names.length === small && !names.includes('too-hot'), `Compare opens on the brushed runs (${JSON.stringify(names)})`);
      const across = await happened(compare.waitForFunction((n) => document.querySelector('#across-runs #plot-canvas')?.dataset.points === String(n), small, { timeout: 15_000 }));
      check(across, `Compare's Across runs scatter draws its ${small} runs`);
      await compare.evaluate(() => document.querySelector('#across-runs')?.scrollIntoView());
      await page.waitForTimeout(500);
      await shot('36-compare-across-runs.png');
      await page.keyboard.press('Control+W');
      await page.keyboard.press('Control+W');
      // Back in the workbench: a key pressed while a webview has focus goes to the webview.
      await page.locator('.tabs-container .tab', { hasText: 'train.py' }).first().click();
    }, () => shot(`error-code-plots-${Date.now()}.png`));

    await step('a hover on an add_argument line lists the values the flag took', async () => {
      await quickInput(page, 'Control+P', 'train.py', 'train.py');
      await hoverEditorText(page, '--lr"');
      const shown = await happened(hover.waitFor({ timeout: 20_000 }));
      const text = shown ? (await hover.textContent()) ?? '' : '';
      const counts = Object.fromEntries(['0.01', '0.05', '40'].map((v) => [v, ofTrain.filter((r) => String(r.params.lr) === v).length]));
      check(shown && /lr.*across 5 runs/.test(text) && ['0.01', '0.05', '40'].every((v) => text.includes(v)) && /←\s*here/.test(text), `the hover lists lr's values ${JSON.stringify(counts)} and marks the default (${text.slice(0, 300)})`);
      await shot('29-hover-flag.png');
      await page.keyboard.press('Escape');
    }, () => shot(`error-code-hover-flag-${Date.now()}.png`));

    await step('a hover on a config key lists the values the runs that loaded it used', async () => {
      await quickInput(page, 'Control+P', 'config.json', 'config.json');
      await hoverEditorText(page, 'max_loss"');
      const shown = await happened(hover.waitFor({ timeout: 20_000 }));
      const text = shown ? (await hover.textContent()) ?? '' : '';
      const loaded = JSON.parse(cli('ls', '--json')).filter((r) => r.configFiles.some((c) => c.path === 'config.json')).length;
      check(shown && text.includes('max_loss') && new RegExp(`across ${loaded} runs`).test(text) && /best loss/.test(text), `the hover on max_loss sums up the ${loaded} runs that loaded config.json (${text.slice(0, 300)})`);
      await shot('30-hover-config.png');
      await page.keyboard.press('Escape');
    }, () => shot(`error-code-hover-config-${Date.now()}.png`));

    await step('run annotations appear on the current line and stay with it through an edit above', async () => {
      await quickInput(page, 'Control+P', 'train.py', 'train.py');
      await quickInput(page, 'F1', '>RunLens: Toggle Run Annotations', 'Toggle Run Annotations');
      // The bias-prior line is only in the runs recorded after that edit; the line below it is in all of them.
      const wip = ofTrain.filter((r) => /bias-prior|too-hot/.test(r.name)).length;
      const biasLine = page.locator('.monaco-editor .view-line', { hasText: 'try a bias prior' }).first();
      await biasLine.click();
      const annotated = async (pattern) => happened((async () => {
        for (let i = 0; i < 60; i++) {
          if ((await viewLines(page)).some((l) => l.includes('try a bias prior') && pattern.test(l))) return;
          await page.waitForTimeout(250);
        }
        throw new Error('no annotation');
      })());
      const first = await annotated(new RegExp(`${wip} runs · since bias-prior-wip`));
      check(first, `the bias-prior line says ${wip} runs, since bias-prior-wip (${(await viewLines(page)).find((l) => l.includes('bias prior'))})`);
      await shot('31-line-annotation.png');
      // A line added above, typed so that no suggestion takes the Enter.
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('Enter');
      await page.keyboard.press('ArrowUp');
      await page.keyboard.type('# an edit above');
      await page.keyboard.press('Escape');
      await biasLine.click();
      const moved = await annotated(new RegExp(`${wip} runs · since bias-prior-wip`));
      await page.keyboard.press('Control+Home');
      await page.waitForTimeout(800);
      const top = (await viewLines(page))[0] ?? '';
      check(moved && !/runs ·/.test(top), `after a line is added above, the annotation is still on the bias-prior line, and the new line has none (${top})`);
      await shot('32-line-annotation-after-edit.png');
      // The added line deleted again and the file saved (code-server may have saved the edit already).
      await page.keyboard.press('Control+Home');
      await page.keyboard.press('Shift+ArrowDown');
      await page.keyboard.press('Delete');
      await page.keyboard.press('Control+S');
      await page.waitForTimeout(1000);
    }, () => shot(`error-code-annotations-${Date.now()}.png`));

    await step('Which Runs Used This File? lists the runs whose snapshot holds train.py as it is', async () => {
      check(fs.readFileSync(path.join(wsCode, 'train.py'), 'utf8') === trainPy, 'train.py is back as it was once the added line is deleted');
      const now = execFileSync('git', ['hash-object', 'train.py'], { cwd: wsCode, encoding: 'utf8' }).trim();
      const same = ofTrain.filter((r) => execFileSync('git', ['rev-parse', `${r.git.snapshot}:train.py`], { cwd: wsCode, encoding: 'utf8' }).trim() === now);
      await quickInput(page, 'F1', '>RunLens: Which Runs Used This File?', 'Which Runs Used This File?');
      const separator = page.locator('.quick-input-list', { hasText: `Exactly as it is now (${same.length})` }).first();
      const listed = await happened(separator.waitFor({ timeout: 30_000 }));
      const rows = listed ? await page.locator('.quick-input-list .monaco-list-row').allTextContents() : [];
      check(listed && same.every((r) => rows.some((t) => t.includes(r.name))) && rows.some((t) => /Another version/.test(t)), `the quick pick lists the ${same.length} runs with this exact content (${same.map((r) => r.name)}) and the other version (${JSON.stringify(rows.slice(0, 8))})`);
      await shot('33-runs-of-file.png');
      await page.keyboard.press('Escape');
    }, () => shot(`error-code-runs-of-file-${Date.now()}.png`));

    await step('Export Version… on a model version writes the export into the folder picked', async () => {
      const into = path.join(WORK, 'exports');
      fs.mkdirSync(into, { recursive: true });
      const view = '[id="workbench.view.extension.runlens"]';
      // v2 (production): later runs of the demo wrote out/model.json again; the registry kept v2's copy.
      const version = page.locator(`${view} .monaco-list-row[aria-label^="v2"]`).first();
      const input = page.locator('.quick-input-widget input');
      // A click on a context menu that is still opening can be lost: the menu is opened again, then driven by the keyboard.
      for (let attempt = 1; ; attempt++) {
        await version.click({ button: 'right' });
        const item = page.locator('.monaco-menu .action-label', { hasText: 'Export Version…' }).first();
        await item.waitFor({ timeout: 10_000 });
        if (attempt === 1) await item.click();
        else {
          await item.hover();
          await page.keyboard.press('Enter');
        }
        if (await happened(input.waitFor({ state: 'visible', timeout: 8_000 }))) break;
        if (attempt === 3) throw new Error('Export Version… opened no folder picker');
        await page.keyboard.press('Escape');
      }
      // The dialog puts the workspace folder in the box a moment after it shows; a path typed before that is
      // appended to it. So wait for its own value, then type until the box holds exactly the path and the
      // dialog has listed that folder.
      const typed = `${into}/`;
      await happened(page.waitForFunction(() => document.querySelector('.quick-input-widget input')?.value.endsWith('/'), null, { timeout: 10_000 }));
      for (let i = 0; i < 10; i++) {
        await input.fill(typed);
        await page.waitForTimeout(500);
        const box = await page.locator('.quick-input-widget').innerText().catch(() => '');
        if ((await input.inputValue()) === typed && !/path does not exist/.test(box)) break;
      }
      await page.waitForTimeout(500);
      // The picker may take the first Enter to go into the folder typed: Enter again while it is still open.
      for (let i = 0; i < 3 && (await input.isVisible()); i++) {
        await page.keyboard.press('Enter');
        await happened(input.waitFor({ state: 'hidden', timeout: 3_000 }));
      }
      const manifest = path.join(into, 'logistic-v2', 'MANIFEST.json');
      for (let i = 0; i < 60 && !fs.existsSync(manifest); i++) await page.waitForTimeout(500);
      const said = await happened(waitForNotification(page, 'exported logistic v2 to', 10));
      const written = fs.existsSync(manifest) ? JSON.parse(fs.readFileSync(manifest, 'utf8')) : null;
      const registered = JSON.parse(cli('model', 'ls', '--json')).find((m) => m.name === 'logistic')?.versions.find((v) => v.version === 2)?.artifact.sha256;
      const exported = written ? createHash('sha256').update(fs.readFileSync(path.join(into, 'logistic-v2', written.artifact.file))).digest('hex') : null;
      check(said && written?.version === 2 && written.aliases.includes('production') && exported === registered, `the export of production (v2) is in ${into}/logistic-v2 with the registered model, though later runs overwrote out/model.json (${said}, ${exported?.slice(0, 12)} vs ${registered?.slice(0, 12)})`);
      await page.keyboard.press('Escape');
    }, () => shot(`error-code-export-${Date.now()}.png`));
  } finally {
    await page.close();
    server.stop();
  }
}

// RUNLENS_E2E_ONLY=demo,table runs only those suites, for a quick loop; npm test runs them all.
const suites = { ui: uiTests, host: extensionHostTests, untrusted: untrustedTests, table: tableTests, import: importTests, record: recordTests, share: shareTests, code: codeTests, demo: demoTests };
const only = process.env.RUNLENS_E2E_ONLY?.split(',').filter(Boolean);
try {
  for (const [name, suite] of Object.entries(suites)) if (!only || only.includes(name)) await suite();
} finally {
  await browser.close();
  stop();
}
log(`screenshots in ${SHOTS}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
