import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseDocument } from 'yaml';
import type { Policy, PolicyInUse } from '../domain/decision/policy.js';
import { policyVersion } from '../domain/decision/version.js';
import { policySchema } from './policy-schema.js';

/** The policy the service decides with when DECISION_POLICY_FILE is not set (src/ and dist/ alike). */
export const DEFAULT_POLICY_FILE = fileURLToPath(new URL('../../policies/default.yaml', import.meta.url));

/** A policy file that cannot be used, with every problem found, each naming where it is. */
export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`Invalid decision policy ${file}:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'PolicyFileError';
  }
}

export type PolicyParse = { policy: PolicyInUse; problems?: never } | { policy?: never; problems: string[] };

/**
 * A policy from the text of its file: JSON is YAML too, so one parser reads both. Syntax errors are given
 * with their line and column, and schema problems with their path (`rules.3.when.state.0: …`).
 */
export function parsePolicy(text: string): PolicyParse {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      problems: document.errors.map((error) => {
        const { line, col } = lines.linePos(error.pos[0]);
        return `line ${line}, column ${col}: ${error.message.split('\n')[0]}`;
      }),
    };
  }
  const parsed = policySchema.safeParse(document.toJS());
  if (!parsed.success) {
    return {
      problems: parsed.error.issues.map((issue) =>
        issue.path.length === 0 ? issue.message : `${issue.path.join('.')}: ${issue.message}`,
      ),
    };
  }
  return { policy: inUse(parsed.data) };
}

/** Reads and checks a policy file; throws PolicyFileError listing every problem. */
export function loadPolicyFile(file: string = DEFAULT_POLICY_FILE): PolicyInUse {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unreadable';
    throw new PolicyFileError(file, [`cannot be read (${code})`]);
  }
  const parsed = parsePolicy(text);
  if (parsed.problems) throw new PolicyFileError(file, parsed.problems);
  return parsed.policy;
}

function inUse(policy: Policy): PolicyInUse {
  return Object.freeze({ policy, version: policyVersion(policy) });
}
