// What the views show of a failed request: every API implementation fails with ApiRequestError
// (preload/contract/request-tracker.ts), and anything else a promise may reject with gets one line too.

/** One line for a toast or an inline message, from anything a promise may reject with. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unexpected error';
}
