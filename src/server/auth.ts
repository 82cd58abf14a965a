/**
 * Optional bearer-token auth. Tokens come from options or KEEL_SERVER_TOKENS
 * ("name:role:token,name:role:token", role read or write). With no token configured the server is
 * open; with any, every request but /health needs `Authorization: Bearer TOKEN`, and every write
 * needs a write token. Tokens are compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { KeelError } from '../core/errors.js';
import { ApiError } from './errors.js';

export type Role = 'read' | 'write';

export interface Token {
  name: string;
  role: Role;
  token: string;
}

/** Parse KEEL_SERVER_TOKENS-style text; throws KEEL_E_CONFIG naming the bad entry. */
export function parseTokens(text: string | undefined): Token[] {
  if (!text || text.trim() === '') return [];
  return text.split(',').map((entry, i) => {
    const [name, role, ...rest] = entry.trim().split(':');
    const token = rest.join(':');
    if (!name || (role !== 'read' && role !== 'write') || token.length < 8)
      throw new KeelError(
        'KEEL_E_CONFIG',
        `KEEL_SERVER_TOKENS entry ${i + 1} must be NAME:read|write:TOKEN with a token of 8+ characters`,
        { path: ['KEEL_SERVER_TOKENS', i] },
      );
    return { name, role, token };
  });
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A checker: the caller's name for a valid token with the needed role, else an ApiError. */
export function authenticator(
  tokens: Token[],
): ((header: string | undefined, write: boolean) => string) | null {
  if (tokens.length === 0) return null;
  const known = tokens.map((t) => ({ ...t, digest: digest(t.token) }));
  return (header, write) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) throw new ApiError('UNAUTHENTICATED', 'send a bearer token: Authorization: Bearer TOKEN');
    const d = digest(m[1]);
    let found: (typeof known)[number] | undefined;
    for (const t of known) if (timingSafeEqual(t.digest, d)) found = t;
    if (!found) throw new ApiError('UNAUTHENTICATED', 'the bearer token is not valid');
    if (write && found.role !== 'write')
      throw new ApiError('PERMISSION_DENIED', `token "${found.name}" may read but not write`);
    return found.name;
  };
}
