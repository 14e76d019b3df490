/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // 151002: ts-jest's note that module node16 is fully supported only with isolatedModules; every
  // file here compiles to CommonJS, which it handles (npm run typecheck checks the types).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { ignoreCodes: [151002] } }] },
  testTimeout: 30000,
  // Each suite starts real servers and databases; two cores, two workers.
  maxWorkers: 2,
  // Every response a test receives from the app is checked against the API description.
  setupFilesAfterEnv: ['<rootDir>/test/helpers/contract-setup.ts'],
};
