/** The node flags between `node` and the entry file in services/<service>/Dockerfile's CMD. */
export declare function serviceNodeFlags(service: string): string[];
/** A Kubernetes memory quantity (`512Mi`, `1Gi`) in MiB. */
export declare function mebibytes(quantity: string): number;
/** The old-space cap Node picks inside a container with this memory limit (MiB), as node flags. */
export declare function containerHeapFlags(limitMiB: number): string[];
