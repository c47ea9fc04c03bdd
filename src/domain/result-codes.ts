/** Smile ID result codes as data (docs/smile-id.md#result-codes). Unknown codes are categorised from their Actions. */

export type ResultCategory = 'approved' | 'provisional' | 'rejected' | 'failed';

interface ResultCodeInfo {
  readonly category: ResultCategory | 'fraud_signal';
  readonly text: string;
  /** Where the code was seen: a Smile ID repository and path, or a docs page (test/fixtures/smileid/). */
  readonly source: string;
}

const DOCS_CODES = 'docs.usesmileid.com/further-reading/result-codes';
const DOCS_ERRORS = 'docs.smileidentity.com/results/result-and-error-codes';
const SMILE_SECURE_DOCS = 'docs.usesmileid.com/products/for-individuals-kyc/smile-secure';

/**
 * Result codes as data, each with its source. Smile ID's full Biometric KYC table (08xx, 09xx, 12xx) is
 * not public in what could be read: an unknown code is categorised from its Actions, flagged for
 * confirmation, and settled by job_status (`job_complete`, `job_success`).
 */
export const RESULT_CODES: Readonly<Record<string, ResultCodeInfo>> = {
  '0001': { category: 'rejected', text: 'Data invalid / image unusable', source: DOCS_ERRORS },
  '0810': {
    category: 'approved',
    text: 'Enroll User',
    source:
      'smileidentity/smile-identity-core-python README.md; smileidentity/smile-identity-core-js README.md',
  },
  '0814': {
    category: 'provisional',
    text: 'Provisional Enroll - Under Review',
    source: 'smileidentity/smile-identity-core-python tests/conftest.py',
  },
  '0840': {
    category: 'approved',
    text: 'Enroll User',
    source: 'docs/smile-id.md#result-codes (official examples)',
  },
  '0903': { category: 'rejected', text: 'Zip corrupt', source: DOCS_ERRORS },
  '0907': { category: 'rejected', text: 'Possible spoof (strict setting)', source: DOCS_ERRORS },
  '1012': { category: 'approved', text: 'Valid ID / ID Number Validated', source: DOCS_CODES },
  '1013': { category: 'rejected', text: 'Unable to Validate ID', source: DOCS_CODES },
  '1014': { category: 'failed', text: 'Unsupported ID number format', source: DOCS_CODES },
  '1015': { category: 'failed', text: 'ID authority unavailable', source: DOCS_CODES },
  '1016': { category: 'failed', text: 'Need to activate product', source: DOCS_CODES },
  '1020': { category: 'approved', text: 'Exact Match', source: DOCS_CODES },
  '1021': { category: 'approved', text: 'Partial Match', source: DOCS_CODES },
  '1022': { category: 'rejected', text: 'No Match', source: DOCS_CODES },
  '1023': { category: 'rejected', text: 'Not Found', source: DOCS_CODES },
  '1030': {
    category: 'rejected',
    text: 'Found on list',
    source: 'smileidentity/smile-identity-core-ruby spec/smile-identity-core/aml_check_spec.rb',
  },
  '1210': {
    category: 'approved',
    text: 'Enroll User',
    source: 'smileidentity/smile-identity-core-python tests/conftest.py',
  },
  '1220': {
    category: 'approved',
    text: 'Authenticated',
    source: 'smileidentity/smile-identity-core-js README.md',
  },
  '5210': { category: 'fraud_signal', text: 'Smile Secure: no suspects', source: SMILE_SECURE_DOCS },
  '5211': { category: 'fraud_signal', text: 'Smile Secure: suspects found', source: SMILE_SECURE_DOCS },
  '5212': { category: 'fraud_signal', text: 'Smile Secure: system error', source: SMILE_SECURE_DOCS },
};

export const SMILE_SECURE_CODES = new Set(['5210', '5211', '5212']);

const ID_CODE = /^10\d\d$/;
const FAILING_ACTIONS = new Set(['Failed', 'Rejected', 'Not Verified']);
const REVIEW_ACTIONS = new Set(['Under Review', 'Sent to Human Review', 'Provisionally Approved']);
const PASSING_ACTIONS = new Set(['Passed', 'Completed', 'Approved', 'Verified', 'Returned']);

/**
 * The category of a result: from the code table when the code is known, otherwise from its Actions
 * (any review action makes it provisional, else any failing action rejects). A result that says nothing
 * decisive is provisional: only Smile ID's job_status can settle it.
 */
export function categorizeResult(
  code: string | undefined,
  actions: Readonly<Record<string, string>>,
): ResultCategory {
  const known = code === undefined ? undefined : RESULT_CODES[code];
  const fromActions = categorizeActions(actions);
  if (!known || known.category === 'fraud_signal') return fromActions;
  // An ID code (10xx) judges only the ID number: a biometric check that failed in the same body still rejects.
  const overruled = ID_CODE.test(code ?? '') && known.category === 'approved' && fromActions === 'rejected';
  return overruled ? 'rejected' : known.category;
}

/**
 * A review or provisional approval anywhere keeps the result provisional even beside a failed action:
 * a Pure Provisional (image comparison provisionally approved, ID number not verified) is, in Smile ID's
 * words, a provisionally approved job, and only job_status may turn it into a rejection.
 */
function categorizeActions(actions: Readonly<Record<string, string>>): ResultCategory {
  const values = Object.values(actions);
  if (values.some((value) => REVIEW_ACTIONS.has(value))) return 'provisional';
  if (values.some((value) => FAILING_ACTIONS.has(value))) return 'rejected';
  if (values.some((value) => PASSING_ACTIONS.has(value))) return 'approved';
  return 'provisional';
}
