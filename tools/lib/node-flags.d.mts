/** The node flags between `node` and the entry file in services/<service>/Dockerfile's CMD. */
export declare function serviceNodeFlags(service: string): string[];
