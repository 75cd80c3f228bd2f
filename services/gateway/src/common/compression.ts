import zlib from 'node:zlib';

/**
 * Output chunk of the one-shot (sync) compressors @fastify/compress uses for bodies up to its
 * `syncThreshold`. Node allocates each compressor's output chunk up front (16 KiB by default) and
 * keeps it on the compressor object, which its native handle keeps alive through every scavenge:
 * each compressed response then left 16–33 KiB of ArrayBuffers for the next full GC. A chunk under
 * half of Buffer's 8 KiB pool is carved from the pool instead (docs/performance.md, "Compression
 * and the old generation").
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
