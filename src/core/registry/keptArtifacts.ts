import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A registered version's artifact, kept by its content in the store
 * (`.runlens/artifacts/<sha256>/<name>`): the next run that writes
 * `out/model.pt` again must not take the version's model away. Copied, never
 * linked (a training script that rewrites the file in place would change a
 * hard link too); a file system that can clone files does so without copying
 * the bytes.
 */
export const KEPT_ARTIFACTS = 'artifacts';

export function keptArtifactPath(storeDir: string, sha256: string, name: string): string {
  return path.join(storeDir, KEPT_ARTIFACTS, sha256, path.basename(name));
}

/** Keeps `source` (a file or a folder) under its hash; already kept, nothing is copied. Returns where it is. */
export function keepArtifact(storeDir: string, source: string, sha256: string): string {
  const target = keptArtifactPath(storeDir, sha256, source);
  if (fs.existsSync(target)) return target;
  const partial = `${target}.partial-${process.pid}`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  try {
    if (fs.statSync(source).isDirectory()) fs.cpSync(source, partial, { recursive: true, dereference: true });
    else fs.copyFileSync(source, partial, fs.constants.COPYFILE_FICLONE);
    fs.renameSync(partial, target);
  } catch (err) {
    fs.rmSync(partial, { recursive: true, force: true });
    throw err;
  }
  return target;
}
