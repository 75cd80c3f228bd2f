export declare const CHART_SET: string[];
export declare const CHART_EXCLUDE: { gateway: string[]; agent: string[] };
