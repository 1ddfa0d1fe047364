// What the views show of a failed request: every API implementation fails with ApiRequestError
// (preload/contract/request-tracker.ts), and anything else a promise may reject with gets one line too.
import { ApiRequestError } from '../../../preload/contract/request-tracker';

/** One line for a toast or an inline message, from anything a promise may reject with. */
export function errorMessage(error: unknown): string {
  // The agent's refusal names the user, its role and the role needed; say first that it is a refusal.
  if (error instanceof ApiRequestError && error.code === 'forbidden') return `Not allowed: ${error.message}`;
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unexpected error';
}
