/** The authentication a configuration asks for: its verifier and rules, built at boot. */
import type { Logger } from 'pino';
import type { AuthConfig } from '../config';
import { ApiKeys } from './api-keys';
import { JwtVerifier } from './jwt';
import type { AuthenticationOptions } from './authenticate';

export type AuthSetup = Omit<AuthenticationOptions, 'failures' | 'logger'>;

/** Throws ConfigError (naming AUTH_API_KEYS_FILE) when the key file is missing, empty or invalid. */
export function authSetup(config: AuthConfig, logger: Logger): AuthSetup {
  switch (config.mode) {
    case 'none':
      return {};
    case 'api-key':
      return { verifier: ApiKeys.open(config.apiKeysFile, logger), reads: config.reads };
    case 'jwt':
      return { verifier: new JwtVerifier(config), reads: config.reads, writeScope: config.writeScope };
  }
}
