import type { ReactNode } from 'react';
import { Dialog } from './Dialog';

export interface ConfirmDialogProps {
  title: string;
  message: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog({ title, message, confirmLabel, danger = false, busy = false, error = null, onConfirm, onCancel }: ConfirmDialogProps) {
  return (
    <Dialog
      title={title}
      testId="confirm-dialog"
      onClose={onCancel}
      size="small"
      footer={
        <>
          <button type="button" className="button" data-testid="confirm-cancel" onClick={onCancel}>
            Cancel
          </button>
          <button
            type="button"
            className={danger ? 'button button-danger' : 'button button-primary'}
            data-testid="confirm-accept"
            disabled={busy}
            onClick={onConfirm}
            autoFocus
            data-autofocus
          >
            {busy ? 'Working…' : confirmLabel}
          </button>
        </>
      }
    >
      <div className="confirm-message">{message}</div>
      {error !== null && (
        <p className="callout callout-bad" role="alert" data-testid="confirm-error">
          {error}
        </p>
      )}
    </Dialog>
  );
}
