import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HashCache, hashPath } from '../dataHash';
import { execGitBuffer } from '../git/gitClient';
import { userAtHost } from '../identity';
import type { RunRecord } from '../runRecord';
import { readRunRecord, runDir } from '../store';
import type { ModelVersion } from './events';
import { keptArtifactPath } from './keptArtifacts';
import { Registry, RegistryError } from './registry';

/** An export that cannot be made, and why; nothing was written. */
export class ExportRefused extends Error {}

export const MANIFEST_FILE = 'MANIFEST.json';
/** What an export folder holds, by name. */
export const EXPORT_LAYOUT = { model: 'model', code: 'code', run: 'run', requirements: 'requirements.txt', dockerfile: 'Dockerfile' } as const;
/** The run files an export carries, for `reproduce --from-export` (its record and its series). */
const RUN_FILES = ['run.json', 'metrics.jsonl', 'params.jsonl'];

export interface ExportManifest {
  format: 1;
  model: string;
  version: number;
  /** The model's aliases that pointed at this version when it was exported. */
  aliases: string[];
  runId: string;
  runName: string;
  snapshot: string | null;
  artifact: { path: string; file: string; sha256: string; size: number };
  command: string[];
  /** The run's working folder in its repository, which the command runs from in `code/`. */
  cwdInRepo: string;
  python: { version: string; implementation: string } | null;
  data: { path: string; sha256: string | null; size: number }[];
  params: Record<string, unknown>;
  metrics: Record<string, number>;
  seed: RunRecord['seed'];
  exportedBy: string;
  exportedAt: string;
}

/** `logistic@production` or `logistic/2` (`logistic/v2`): the version it names. */
export function resolveVersionSpec(registry: Registry, spec: string): ModelVersion & { model: string } {
  const at = spec.lastIndexOf('@');
  const slash = spec.lastIndexOf('/');
  const name = at > 0 ? spec.slice(0, at) : slash > 0 ? spec.slice(0, slash) : '';
  if (!name) throw new ExportRefused(`"${spec}" names no version: write MODEL@ALIAS or MODEL/VERSION`);
  let model;
  try {
    model = registry.model(name);
  } catch (err) {
    throw new ExportRefused((err as RegistryError).message);
  }
  let number: number | undefined;
  if (at > 0) {
    const alias = spec.slice(at + 1);
    number = model.aliases[alias];
    if (number === undefined) throw new ExportRefused(`${name} has no alias "${alias}" (aliases: ${Object.keys(model.aliases).join(', ') || 'none'})`);
  } else {
    number = Number(spec.slice(slash + 1).replace(/^v/i, ''));
  }
  const version = model.versions.find((v) => v.version === number);
  if (!version) throw new ExportRefused(`${name} has no version ${spec.slice(slash + 1)} (versions: ${model.versions.map((v) => v.version).join(', ') || 'none'})`);
  return { ...version, model: name };
}

/**
 * requirements.txt from the run's captured packages: every package pinned to
 * the exact version the run had; one installed from a folder or a VCS URL is
 * listed as a comment naming where it came from, since no index has it.
 */
export function requirementsOf(run: RunRecord): string {
  const python = run.env?.python;
  const lines = [`# The packages of run ${run.id} "${run.name}", as they were when it ran.`, `# Python ${python ? `${python.implementation} ${python.version}` : 'unknown'}.`];
  if (!python) return lines.concat('# No Python was recorded for this run.', '').join('\n');
  const origins = python.origins ?? {};
  for (const [name, version] of Object.entries(python.packages).sort(([a], [b]) => a.localeCompare(b))) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) continue;
    const origin = origins[name];
    if (origin) lines.push(`# ${name}==${version} was installed from ${origin.replace(/[\r\n]/g, ' ')}: install it from there`);
    else lines.push(`${name}==${version.replace(/[^\w.+!*-]/g, '')}`);
  }
  return lines.join('\n') + '\n';
}

/** The image's interpreter: the run's `major.minor`, on the official slim image. */
export function pythonImageTag(run: RunRecord): string {
  const match = /^(\d+)\.(\d+)/.exec(run.env?.python?.version ?? '');
  return match ? `python:${match[1]}.${match[2]}-slim` : 'python:3-slim';
}

/** A Dockerfile that installs the run's interpreter version and requirements and runs its command from its folder. */
export function dockerfileOf(run: RunRecord, manifest: ExportManifest): string {
  const workdir = path.posix.join('/app/code', manifest.cwdInRepo || '.');
  // The interpreter as recorded (/usr/bin/python3, a venv's) is not in the image: the image's python runs it.
  const command = [...run.command];
  if (command.length && /(^|\/)python[\d.]*$/.test(command[0]!)) command[0] = 'python';
  return [
    `# Rebuilds the environment of ${manifest.model} v${manifest.version} (run ${manifest.runId}).`,
    `FROM ${pythonImageTag(run)}`,
    'WORKDIR /app',
    `COPY ${EXPORT_LAYOUT.requirements} /app/${EXPORT_LAYOUT.requirements}`,
    `RUN pip install --no-cache-dir -r /app/${EXPORT_LAYOUT.requirements}`,
    `COPY ${EXPORT_LAYOUT.code}/ /app/code/`,
    `COPY ${EXPORT_LAYOUT.model}/ /app/model/`,
    `WORKDIR ${workdir}`,
    `CMD ${JSON.stringify(command)}`,
    '',
  ].join('\n');
}

function sha256Of(target: string): { sha256: string | null; size: number } {
  const hashed = hashPath(target, '/', new HashCache(null));
  return { sha256: hashed.sha256, size: hashed.size };
}

/**
 * `runlens model export`: one folder with everything a version depends on —
 * the artifact (its hash checked against the registry first: a mismatch
 * refuses), the code snapshot as files, requirements.txt and a Dockerfile
 * from the run's environment, the run's record and series, and a manifest.
 * The export is recorded in the registry's audit log. `--tar` packs the
 * folder. Nothing is written when it refuses.
 */
export async function exportVersion(storeDir: string, spec: string, target: { to?: string; tar?: string }, repoRoot: string | null): Promise<{ dir: string | null; manifest: ExportManifest; tar: string | null }> {
  const registry = new Registry(storeDir);
  const version = resolveVersionSpec(registry, spec);
  let run: RunRecord;
  try {
    run = readRunRecord(storeDir, version.runId);
  } catch (err) {
    throw new ExportRefused(`the run of ${version.model} v${version.version} (${version.runId}) cannot be read: ${(err as Error).message}`);
  }
  // Where the run wrote it, else the copy the registry kept when the version was registered: the first that is still the registered file.
  const written = path.resolve(run.cwd, version.artifact.path);
  const kept = version.artifact.sha256 ? keptArtifactPath(storeDir, version.artifact.sha256, written) : null;
  const candidates = [written, ...(kept ? [kept] : [])].filter((p) => fs.existsSync(p)).map((p) => ({ path: p, ...sha256Of(p) }));
  const match = candidates.find((c) => version.artifact.sha256 && c.sha256 === version.artifact.sha256);
  if (!match) {
    const there = candidates[0];
    throw new ExportRefused(
      there
        ? `the artifact of ${version.model} v${version.version} changed since it was registered: sha256 ${version.artifact.sha256 ?? 'none'} registered, ${there.sha256 ?? 'none'} now (${there.path}), and the registry kept no copy of it`
        : `the artifact of ${version.model} v${version.version} is not here: ${written} does not exist, and the registry kept no copy of it`,
    );
  }
  const source = match.path;
  const now = match;
  const snapshot = version.snapshot ?? run.git?.snapshot ?? null;
  if (snapshot && !repoRoot) throw new ExportRefused(`the code snapshot ${snapshot.slice(0, 12)} needs the repository it was recorded in`);
  // Only an archive asked for: the folder is made in a temporary place and packed from there.
  const packedOnly = Boolean(target.tar && !target.to);
  const dir = target.to ? path.resolve(target.to) : path.resolve(packedOnly ? fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-export-')) : '.', `${version.model}-v${version.version}`);
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new ExportRefused(`${dir} is not empty; export into a new folder`);
  const aliases = Object.entries(registry.model(version.model).aliases).filter(([, v]) => v === version.version).map(([a]) => a).sort();
  const exportedAt = new Date().toISOString();
  const manifest: ExportManifest = {
    format: 1,
    model: version.model,
    version: version.version,
    aliases,
    runId: run.id,
    runName: run.name,
    snapshot,
    artifact: { path: version.artifact.path, file: path.posix.join(EXPORT_LAYOUT.model, path.basename(written)), sha256: version.artifact.sha256!, size: now.size },
    command: run.command,
    cwdInRepo: run.cwdInRepo ?? '',
    python: run.env?.python ? { version: run.env.python.version, implementation: run.env.python.implementation } : null,
    data: run.data.map((d) => ({ path: d.path, sha256: d.sha256, size: d.size })),
    params: run.params,
    metrics: Object.fromEntries(Object.entries(run.metricsSummary?.metrics ?? {}).filter(([, m]) => Number.isFinite(m.last)).map(([k, m]) => [k, m.last])),
    seed: run.seed,
    exportedBy: userAtHost(),
    exportedAt,
  };
  fs.mkdirSync(dir, { recursive: true });
  try {
    const modelDir = path.join(dir, EXPORT_LAYOUT.model);
    fs.mkdirSync(modelDir);
    fs.cpSync(source, path.join(modelDir, path.basename(written)), { recursive: true, dereference: true });
    const codeDir = path.join(dir, EXPORT_LAYOUT.code);
    fs.mkdirSync(codeDir);
    if (snapshot) {
      const archive = await execGitBuffer(repoRoot!, ['archive', '--format=tar', snapshot]);
      execFileSync('tar', ['-x', '-C', codeDir], { input: archive, maxBuffer: 1 << 30 });
    }
    const runOut = path.join(dir, EXPORT_LAYOUT.run);
    fs.mkdirSync(runOut);
    for (const file of RUN_FILES) {
      const from = path.join(runDir(storeDir, run.id), file);
      if (fs.existsSync(from)) fs.copyFileSync(from, path.join(runOut, file));
    }
    fs.writeFileSync(path.join(dir, EXPORT_LAYOUT.requirements), requirementsOf(run));
    fs.writeFileSync(path.join(dir, EXPORT_LAYOUT.dockerfile), dockerfileOf(run, manifest));
    fs.writeFileSync(path.join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let tar: string | null = null;
  if (target.tar) {
    tar = path.resolve(target.tar);
    try {
      execFileSync('tar', [...(/\.(tgz|gz)$/.test(tar) ? ['-z'] : []), '-c', '-f', tar, '-C', path.dirname(dir), path.basename(dir)]);
    } finally {
      if (packedOnly) fs.rmSync(path.dirname(dir), { recursive: true, force: true });
    }
  }
  registry.recordExport(version.model, version.version, tar ?? dir, version.artifact.sha256);
  return { dir: packedOnly ? null : dir, manifest, tar };
}
