/** Enough of an error answer to say what went wrong in the dead-letter list. */
export const ERROR_TEXT_CHARS = 200;

/** ES2024 string methods, in Node since 20. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * A receiver's text as it can be stored and shown on one line: at most `maxChars`, never cutting a
 * surrogate pair in two; unpaired surrogates become U+FFFD, and control characters (U+0000 among them)
 * and line breaks become one space. Postgres refuses U+0000 and unpaired surrogates in text: stored as
 * they came, the failure could not be recorded, and the delivery would be sent again for ever.
 */
export function cleanErrorText(text: string, maxChars = ERROR_TEXT_CHARS): string {
  let kept = text.length > maxChars ? text.slice(0, maxChars) : text;
  const last = kept.charCodeAt(kept.length - 1);
  if (kept.length < text.length && last >= 0xd800 && last <= 0xdbff) kept = kept.slice(0, -1);
  const wellFormed = kept as string & WellFormedString;
  if (!wellFormed.isWellFormed()) kept = wellFormed.toWellFormed();
  return kept.replace(/\p{Cc}+/gu, ' ').trim();
}
