// The initiator's acceptance policy for an answer from an identity other than the one it
// addressed (RFC 6267 §7.3–7.5, mikey-ibake.md §10.8 step 5): a forked device (it decrypted
// I_MESSAGE_1, so it holds the addressed identity's key, and answers with its unique identity),
// a silently retargeted responder (could not decrypt; answers with its own identity), or a
// deferred-delivery mailbox allowed for the addressed user (DESIGN §3). Each is allow / deny /
// a callback; the default denies everything but a direct answer.

export type Decision = 'allow' | 'deny';
export type Rule = Decision | ((addressed: string, answering: string) => Decision | Promise<Decision>);

export interface InitiatorPolicy {
  /** Forking: addressed (common) identity -> allowed device identities, or a rule. */
  forking?: Record<string, string[]> | Rule;
  /** Silent proxy retargeting: whether to continue with a responder that could not decrypt. */
  retarget?: Rule;
  /** Deferred delivery: addressed user -> allowed mailbox identities. */
  mailboxes?: Record<string, string[]>;
  /**
   * Deferred delivery when the mailbox has no signed prekey of the user: 'allow' falls back to
   * the escrowed v1 flow (ESK = IBE(K_PUB_B, IDRi ‖ SK): the KMS can read the content; every
   * output says escrowed), 'deny' (default) refuses the call (IBAKE_NO_PREKEY).
   */
  escrowedDeferred?: Decision;
}

export type AnswerKind = 'direct' | 'forked' | 'retargeted' | 'deferred';

async function apply(rule: Rule | undefined, addressed: string, answering: string): Promise<boolean> {
  if (rule === undefined) return false;
  if (typeof rule === 'function') return (await rule(addressed, answering)) === 'allow';
  return rule === 'allow';
}

/**
 * Classifies an R_MESSAGE_1 and applies the policy. `echoed` = the responder returned our
 * ECCPTi (it could decrypt I_MESSAGE_1). Returns the kind, or undefined if refused.
 */
export async function classifyAnswer(
  policy: InitiatorPolicy,
  addressed: string,
  answering: string,
  echoed: boolean,
): Promise<AnswerKind | undefined> {
  if (echoed) {
    if (answering === addressed) return 'direct';
    const f = policy.forking;
    if (f !== undefined && typeof f === 'object') return f[addressed]?.includes(answering) ? 'forked' : undefined;
    return (await apply(f, addressed, answering)) ? 'forked' : undefined;
  }
  // The addressed identity itself failing to decrypt is not a legitimate flow.
  if (answering === addressed) return undefined;
  if (policy.mailboxes?.[addressed]?.includes(answering)) return 'deferred';
  return (await apply(policy.retarget, addressed, answering)) ? 'retargeted' : undefined;
}
