import type { SuspectUser } from './facets.js';

export interface SmileSecureSignal {
  code: string | null;
  suspectUsers: SuspectUser[];
}

/** Suspects found over system error over no suspects: the order risk is kept in. */
const SEVERITY: Readonly<Record<string, number>> = { '5210': 1, '5212': 2, '5211': 3 };

/**
 * Several Smile Secure signals as one: every suspect (one reason each, the same whatever the order), and
 * the most severe code — suspects found whenever there is a suspect. Risk only accumulates here; only a
 * job_status answer may clear it.
 */
export function combineSmileSecure(signals: readonly SmileSecureSignal[]): SmileSecureSignal {
  const suspects = new Map<string, SuspectUser>();
  for (const suspect of signals.flatMap((signal) => signal.suspectUsers)) {
    const known = suspects.get(suspect.userId);
    if (!known || (suspect.reason ?? '') > (known.reason ?? '')) suspects.set(suspect.userId, suspect);
  }
  const codes = signals.map((signal) => signal.code).filter((code) => code !== null);
  const severest = codes.sort((a, b) => (SEVERITY[b] ?? 0) - (SEVERITY[a] ?? 0) || a.localeCompare(b))[0];
  return {
    code: suspects.size > 0 ? '5211' : (severest ?? null),
    suspectUsers: [...suspects.values()].sort((a, b) => a.userId.localeCompare(b.userId)),
  };
}

const MEANINGS = { '5210': 'no_suspects', '5211': 'suspects_found', '5212': 'system_error' } as const;

/**
 * Smile Secure's signal as consumers see it, so a system error (5212) never reads as "no suspects";
 * null when none arrived.
 */
export function smileSecureView({ code, suspectUsers }: SmileSecureSignal) {
  if (code === null && suspectUsers.length === 0) return null;
  const meaning =
    code !== null && code in MEANINGS
      ? MEANINGS[code as keyof typeof MEANINGS]
      : suspectUsers.length > 0
        ? 'suspects_found'
        : null;
  return { code, meaning, suspectUsers };
}
