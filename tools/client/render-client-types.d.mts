export declare const CLIENT_TYPES_PATH: string;
export declare function renderClientTypes(document: object): Promise<string>;
