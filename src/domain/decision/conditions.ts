import type { DecisionFacts } from './facts.js';
import type { Conditions, NumberRange } from './policy.js';

/** The name in `actions` that stands for any action. */
export const ANY_ACTION = '*';

type Check<K extends keyof Conditions> = (
  condition: NonNullable<Conditions[K]>,
  facts: DecisionFacts,
) => boolean;

/** How each condition reads the facts; a condition left out of a rule holds. */
const CHECKS: { [K in keyof Required<Conditions>]: Check<K> } = {
  state: (states, facts) => states.includes(facts.state),
  isFinal: (isFinal, facts) => facts.isFinal === isFinal,
  stale: (stale, facts) => facts.stale === stale,
  resultCode: (codes, facts) =>
    facts.resultCode !== null && codes.some((code) => codeMatches(code, facts.resultCode!)),
  resultCodeKnown: (known, facts) => facts.resultCodeKnown === known,
  actions: (wanted, facts) =>
    Object.entries(wanted).every(([name, values]) =>
      name === ANY_ACTION
        ? Object.values(facts.actions).some((value) => values.includes(value))
        : facts.actions[name] !== undefined && values.includes(facts.actions[name]),
    ),
  jobType: (types, facts) => facts.jobType !== null && types.includes(facts.jobType),
  idType: (types, facts) => facts.idType !== null && types.includes(facts.idType),
  country: (countries, facts) => facts.country !== null && countries.includes(facts.country),
  previouslyRegisteredByOthers: (values, facts) => values.includes(facts.previouslyRegisteredByOthers),
  smileSecure: (meanings, facts) => meanings.includes(facts.smileSecure),
  suspectUsers: (range, facts) => inRange(range, facts.suspectUserIds.length),
  confidenceValue: (range, facts) => facts.confidenceValue !== null && inRange(range, facts.confidenceValue),
};

/** Whether every condition given holds for the facts. */
export function holds(conditions: Conditions, facts: DecisionFacts): boolean {
  return (Object.keys(conditions) as (keyof Conditions)[]).every((name) => {
    const condition = conditions[name];
    return condition === undefined || (CHECKS[name] as Check<typeof name>)(condition as never, facts);
  });
}

/** `"1015"` matches that code; `"12*"` every code that starts with `12`. */
export function codeMatches(pattern: string, code: string): boolean {
  return pattern.endsWith('*') ? code.startsWith(pattern.slice(0, -1)) : code === pattern;
}

export function inRange(range: NumberRange, value: number): boolean {
  return (
    (range.atLeast === undefined || value >= range.atLeast) &&
    (range.above === undefined || value > range.above) &&
    (range.atMost === undefined || value <= range.atMost) &&
    (range.below === undefined || value < range.below)
  );
}
