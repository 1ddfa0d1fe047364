// The desktop console's "remote cluster" form: its values, the local check against the IPC
// contract's own schema (ConnectTargetSchema: what main checks first), and the mapping of what a
// failed connect says back onto the form's fields. Main stays the authority: it parses the address
// and the CA too, and a form that passes here can still come back with field errors.
import { ConnectTargetSchema, type ConnectTarget } from '../../../preload/contract/ipc';
import type { ErrorCode, FieldIssue } from '../../../preload/contract/protocol';
import { fieldIssues } from '../../../preload/contract/parse';

export const REMOTE_FIELDS = ['label', 'address', 'credential', 'ca'] as const;
export type RemoteField = (typeof REMOTE_FIELDS)[number];

/** What the inputs hold, as typed. */
export interface RemoteFormValues {
  label: string;
  address: string;
  /** The node's token (64 hex digits) or a user's credential "NAME:SECRET". */
  credential: string;
  /** PEM text; empty = no private CA. */
  ca: string;
  remember: boolean;
}

export const EMPTY_REMOTE_FORM: RemoteFormValues = { label: '', address: '', credential: '', ca: '', remember: true };

export type RemoteFieldErrors = Partial<Record<RemoteField, string>>;

/** What the form shows after a failed check or connect: messages beside fields, and one line for the rest. */
export interface RemoteFormErrors {
  fields: RemoteFieldErrors;
  /** Null when every problem has a field to sit beside. */
  general: string | null;
}

export type RemoteCheck = { ok: true; target: Extract<ConnectTarget, { kind: 'remote' }> } | { ok: false; errors: RemoteFormErrors };

/** The request for these values, or the errors to show (nothing is sent then). */
export function checkRemoteForm(values: RemoteFormValues): RemoteCheck {
  const ca = values.ca.trim() === '' ? null : values.ca;
  const parsed = ConnectTargetSchema.safeParse({ kind: 'remote', label: values.label, address: values.address, credential: values.credential, ca, remember: values.remember });
  if (parsed.success && parsed.data.kind === 'remote') return { ok: true, target: parsed.data };
  const issues = parsed.success ? [] : fieldIssues(parsed.error);
  return { ok: false, errors: issuesToRemoteErrors(issues, { message: 'the form does not describe a cluster' }) };
}

/** "credential: must be …" → "must be …" (the field is shown by its place). */
function bareMessage(issue: FieldIssue): string {
  const prefix = `${issue.field}: `;
  return issue.message.startsWith(prefix) ? issue.message.slice(prefix.length) : issue.message;
}

function remoteFieldOf(path: string): RemoteField | null {
  // Main reports the connect argument's fields by their own names; "target.credential" would be the same field.
  const last = path.split('.').pop() ?? '';
  return (REMOTE_FIELDS as readonly string[]).includes(last) ? (last as RemoteField) : null;
}

/** Issues (from the local check or from main) placed on the form: the first message per field. */
export function issuesToRemoteErrors(issues: readonly FieldIssue[], fallback: { message: string; field?: string | undefined }): RemoteFormErrors {
  const fields: RemoteFieldErrors = {};
  let general: string | null = null;
  const list = issues.length > 0 ? issues : [{ field: fallback.field ?? '', message: fallback.message }];
  for (const issue of list) {
    const field = remoteFieldOf(issue.field);
    if (field === null) general ??= issue.message;
    else fields[field] ??= bareMessage(issue);
  }
  return { fields, general };
}

/** What a failed connect looks like, as the error every console API rejects with (ApiRequestError). */
export interface ConnectFailure {
  code: ErrorCode;
  message: string;
  field?: string | undefined;
  issues: readonly FieldIssue[];
}

export const CREDENTIAL_REFUSED = 'the agent refused this credential';

/** One line for a failed connect or start: a refused credential (token or user's) says so first. */
export function failureLine(failure: Pick<ConnectFailure, 'code' | 'message'>): string {
  return failure.code === 'auth-failed' ? `Credential refused: ${failure.message}` : failure.message;
}

/**
 * Where a failed connect of the form shows: field issues beside their fields; a refused credential
 * beside the credential (the agent answered, so the address was right); anything else (unreachable,
 * TLS, timeout) as one line.
 */
export function remoteConnectErrors(failure: ConnectFailure): RemoteFormErrors {
  if (failure.code === 'auth-failed') return { fields: { credential: CREDENTIAL_REFUSED }, general: failureLine(failure) };
  if (failure.issues.length > 0 || failure.field !== undefined) {
    return issuesToRemoteErrors(failure.issues, { message: failure.message, field: failure.field });
  }
  return { fields: {}, general: failure.message };
}

export function hasRemoteErrors(errors: RemoteFormErrors): boolean {
  return errors.general !== null || Object.keys(errors.fields).length > 0;
}
