import zlib from 'node:zlib';

/**
 * Output chunk of the one-shot (sync) compressors @fastify/compress uses for bodies up to its
 * `syncThreshold`. Node gives each compressor a 16 KiB output buffer of its own by default, and
 * under load those outlived every scavenge: each compressed listing left 32 KiB of external memory
 * for the next full GC, 21 KiB with this. A chunk under half of Buffer's 8 KiB pool is carved from
 * the shared pool instead (docs/performance.md, soak memory, "Fourth pass").
 */
export const SYNC_CHUNK_BYTES = 1024;

type SyncCompressor = (input: zlib.InputType, options?: zlib.ZlibOptions | zlib.BrotliOptions) => Buffer;

const smallChunks =
  (compress: SyncCompressor): SyncCompressor =>
  (input, options) =>
    compress(input, { ...options, chunkSize: SYNC_CHUNK_BYTES });

/**
 * The `zlib` option for @fastify/compress: Node's own streams for large bodies, and the same
 * one-shot functions with a pool-sized output chunk for small ones. The plugin takes a sync method
 * only from the object that also supplies the matching stream constructor, hence both.
 */
export const compressionZlib = {
  createBrotliCompress: zlib.createBrotliCompress,
  createGzip: zlib.createGzip,
  createDeflate: zlib.createDeflate,
  createBrotliDecompress: zlib.createBrotliDecompress,
  createGunzip: zlib.createGunzip,
  createInflate: zlib.createInflate,
  brotliCompressSync: smallChunks(zlib.brotliCompressSync),
  gzipSync: smallChunks(zlib.gzipSync),
  deflateSync: smallChunks(zlib.deflateSync),
};
