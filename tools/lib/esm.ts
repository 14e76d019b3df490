/**
 * Loads an ESM-only package from this CommonJS build. TypeScript (module: commonjs) compiles
 * `import()` into `require()`, which cannot load ESM; a Function keeps the real `import()`.
 */
// eslint-disable-next-line @typescript-eslint/no-implied-eval
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;
