export declare function buildDemoPage(): Promise<void>;
