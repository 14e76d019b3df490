/** What checking a presented credential can conclude, whatever the kind of credential. */
export type Verification =
  /** `id` names the caller in rate limits and logs; `scopes` undefined: every permission. */
  | { readonly outcome: 'valid'; readonly id: string; readonly scopes?: ReadonlySet<string> }
  /** The credential is wrong: 401. `reason` is for the log and the answer's detail. */
  | { readonly outcome: 'invalid'; readonly reason: string }
  /** The credential could not be checked because a dependency failed: 503, not the caller's fault. */
  | { readonly outcome: 'unavailable'; readonly reason: string };

export interface Verifier {
  verify(token: string): Promise<Verification>;
}
