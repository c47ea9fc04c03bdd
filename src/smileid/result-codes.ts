/** Smile ID result codes as data (SPEC §3). Unknown codes are categorised from their Actions. */

export type ResultCategory = 'approved' | 'provisional' | 'rejected' | 'failed';

interface ResultCodeInfo {
  readonly category: ResultCategory | 'fraud_signal';
  readonly text: string;
}

export const RESULT_CODES: Readonly<Record<string, ResultCodeInfo>> = {
  '0001': { category: 'rejected', text: 'Data invalid / image unusable' },
  '0810': { category: 'approved', text: 'Enroll User' },
  '0814': { category: 'provisional', text: 'Provisional Enroll - Under Review' },
  '0840': { category: 'approved', text: 'Enroll User' },
  '0903': { category: 'rejected', text: 'Zip corrupt' },
  '0907': { category: 'rejected', text: 'Possible spoof' },
  '1012': { category: 'approved', text: 'Valid ID / ID Number Validated' },
  '1013': { category: 'rejected', text: 'Unable to Validate ID' },
  '1014': { category: 'failed', text: 'Unsupported ID number format' },
  '1015': { category: 'failed', text: 'ID authority unavailable' },
  '1016': { category: 'failed', text: 'Need to activate product' },
  '1020': { category: 'approved', text: 'Exact Match' },
  '1021': { category: 'approved', text: 'Partial Match' },
  '1022': { category: 'rejected', text: 'No Match' },
  '1023': { category: 'rejected', text: 'Not Found' },
  '1210': { category: 'approved', text: 'Enroll User' },
  '5210': { category: 'fraud_signal', text: 'Smile Secure: no suspects' },
  '5211': { category: 'fraud_signal', text: 'Smile Secure: suspects found' },
  '5212': { category: 'fraud_signal', text: 'Smile Secure: system error' },
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
