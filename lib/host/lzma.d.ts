// The pure-JavaScript LZMA encoder (npm "lzma"): compress() returns signed bytes, .lzma ("alone") format.
declare module 'lzma' {
  export function compress(data: Uint8Array | string, mode: number): number[];
}
