import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { compressionZlib, SYNC_CHUNK_BYTES } from './compression.js';

describe('compressionZlib', () => {
  const json = Buffer.from(
    JSON.stringify(
      Array.from({ length: 60 }, (_, i) => ({ id: `p${i}`, full_name: `Paciente ${i}`, status: 'active' })),
    ),
  );
  // Incompressible: the output spans several SYNC_CHUNK_BYTES chunks.
  const noise = randomBytes(8 * 1024);

  it.each([
    ['brotliCompressSync', zlib.brotliDecompressSync],
    ['gzipSync', zlib.gunzipSync],
    ['deflateSync', zlib.inflateSync],
  ] as const)('%s round-trips small and multi-chunk bodies', (method, decompress) => {
    for (const body of [json, noise]) {
      const out = compressionZlib[method](body, {});
      expect(decompress(out).equals(body)).toBe(true);
    }
    expect(compressionZlib[method](noise, {}).length).toBeGreaterThan(SYNC_CHUNK_BYTES);
  });

  it('keeps the caller options (brotli quality) and only overrides the chunk size', () => {
    const q = (quality: number) =>
      compressionZlib.brotliCompressSync(json, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: quality } }).length;
    expect(q(11)).toBeLessThan(q(0));
  });

  it('keeps each output chunk in the Buffer pool, not in an ArrayBuffer of its own', () => {
    // The premise of SYNC_CHUNK_BYTES: allocUnsafe serves sizes under half the pool from the pool.
    expect(SYNC_CHUNK_BYTES).toBeLessThan(Buffer.poolSize >>> 1);
    expect(Buffer.allocUnsafe(SYNC_CHUNK_BYTES).buffer.byteLength).toBe(Buffer.poolSize);
  });
});
