// A failed console request, whoever failed it: the agent ('invalid', 'not-found', ...), or the
// connection itself ('timeout', 'closed', 'protocol'). Shared by both API implementations so the
// views handle one error type.
import type { ApiError, ErrorCode, FieldIssue } from '../../../preload/contract/protocol';

export class ConsoleError extends Error {
  readonly field: string | undefined;
  readonly issues: readonly FieldIssue[];

  constructor(
    readonly code: ErrorCode,
    message: string,
    details: { field?: string | undefined; issues?: readonly FieldIssue[] | undefined } = {},
  ) {
    super(message);
    this.name = 'ConsoleError';
    this.field = details.field;
    this.issues = details.issues ?? [];
  }

  static fromApi(error: ApiError): ConsoleError {
    return new ConsoleError(error.code, error.message, { field: error.field, issues: error.issues });
  }
}

/** One line for a toast or an inline message, from anything a promise may reject with. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'unexpected error';
}
