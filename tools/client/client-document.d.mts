export declare const CLIENT_DOCUMENT_PATH: string;
export declare function clientDocument(document: object): object;
export declare function renderClientDocument(document: object, file: string): Promise<string>;
