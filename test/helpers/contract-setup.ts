/**
 * Jest setup (setupFilesAfterEnv): a test during which the app sent a response that breaks the
 * API description fails, naming the response and what is wrong (test/helpers/contract.ts).
 * CONTRACT_LOG_FILE, when set, receives one line per test file: how many responses were checked.
 */
import { appendFileSync } from 'node:fs';
import type { ContractLog } from './contract';

const log = (): ContractLog | undefined => (globalThis as { contractLog?: ContractLog }).contractLog;

afterEach(() => {
  const violations = log()?.violations.splice(0) ?? [];
  if (violations.length > 0) throw new Error(`responses that break docs/openapi.json:\n  ${violations.join('\n  ')}`);
});

afterAll(() => {
  const file = process.env.CONTRACT_LOG_FILE;
  const checked = log()?.checked ?? 0;
  if (file !== undefined && checked > 0) appendFileSync(file, `${expect.getState().testPath ?? '?'}\t${checked}\n`);
});
