// Create or edit an IP resource. Quick local checks first; then the agent's own validation, whose
// issues ("spec.ip", "patch.failback.startHour", ...) are shown next to the fields they concern.
// Nothing is created until the agent accepts the whole definition.
import { useId, useMemo, useState, type ReactNode } from 'react';
import type { NodeRecord, ResourceView } from '../../../preload/contract/domain';
import type { ActionResult } from '../../../preload/contract/protocol';
import type { ConsoleApi } from '../api/console-api';
import { ApiRequestError } from '../../../preload/contract/request-tracker';
import { errorMessage } from '../model/errors';
import {
  ANNOUNCE_FORM_OPTIONS,
  checkForm,
  DEFEND_POLICY_OPTIONS,
  emptyForm,
  formFromResource,
  hasErrors,
  issuesToFormErrors,
  NO_ERRORS,
  toPatch,
  toSpecInput,
  type FailbackMode,
  type FormErrors,
  type FormField,
  type ResourceFormValues,
} from '../model/resource-form';
import { Dialog } from './Dialog';

export interface ResourceFormDialogProps {
  api: ConsoleApi;
  /** The resource being edited, or null to create one. */
  editing: ResourceView | null;
  resources: ReadonlyMap<string, ResourceView>;
  nodes: ReadonlyMap<string, NodeRecord>;
  onClose: () => void;
  onSaved: (result: ActionResult, name: string, created: boolean) => void;
  /** Null when the role may not remove resources (no Delete button). */
  onDelete: ((name: string) => void) | null;
}

export function ResourceFormDialog({ api, editing, resources, nodes, onClose, onSaved, onDelete }: ResourceFormDialogProps) {
  const [values, setValues] = useState<ResourceFormValues>(() => (editing === null ? emptyForm() : formFromResource(editing)));
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [submitting, setSubmitting] = useState(false);
  const existing = useMemo(() => [...resources.values()], [resources]);
  const nodeNames = useMemo(() => [...nodes.keys()].sort(), [nodes]);
  const formId = useId();

  const set = <K extends keyof ResourceFormValues>(key: K, value: ResourceFormValues[K], field: FormField): void => {
    setValues((current) => ({ ...current, [key]: value }));
    // An edited field's message no longer applies.
    if (errors.fields[field] !== undefined) setErrors((current) => ({ ...current, fields: { ...current.fields, [field]: undefined } }));
  };

  const submit = async (): Promise<void> => {
    const local = checkForm(values, { existing, editing: editing?.name ?? null });
    setErrors(local);
    if (hasErrors(local)) {
      focusFirstError(local);
      return;
    }
    setSubmitting(true);
    try {
      if (editing === null) {
        const spec = toSpecInput(values);
        onSaved(await api.request('resource.add', { spec }), spec.name, true);
      } else {
        const patch = toPatch(values, editing);
        if (Object.keys(patch).length === 0) {
          onClose();
          return;
        }
        onSaved(await api.request('resource.edit', { name: editing.name, patch }), editing.name, false);
      }
    } catch (error) {
      const shown =
        error instanceof ApiRequestError && (error.code === 'invalid' || error.code === 'bad-request')
          ? issuesToFormErrors(error.issues, { message: error.message, field: error.field })
          : { fields: {}, general: [errorMessage(error)] };
      setErrors(shown);
      focusFirstError(shown);
    } finally {
      setSubmitting(false);
    }
  };

  const fieldProps = (field: FormField) => ({
    id: `${formId}-${field}`,
    'data-testid': `field-${field}`,
    'aria-invalid': errors.fields[field] !== undefined,
    'aria-describedby': errors.fields[field] !== undefined ? `${formId}-${field}-error` : undefined,
  });
  const errorOf = (field: FormField): ReactNode =>
    errors.fields[field] === undefined ? null : (
      <span className="field-error" id={`${formId}-${field}-error`} data-testid={`field-error-${field}`} role="alert">
        {errors.fields[field]}
      </span>
    );

  return (
    <Dialog
      title={editing === null ? 'New IP resource' : `Edit ${editing.name}`}
      subtitle={editing === null ? 'A virtual IP address the cluster keeps online on one node.' : <span className="mono">{`${editing.ip}/${editing.prefix}`}</span>}
      testId="resource-form"
      size="large"
      onClose={onClose}
      footer={
        <>
          {editing !== null && onDelete !== null && (
            <button type="button" className="button button-danger-quiet footer-left" data-testid="form-delete" onClick={() => onDelete(editing.name)}>
              Delete…
            </button>
          )}
          <button type="button" className="button" data-testid="form-cancel" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={formId} className="button button-primary" data-testid="form-submit" disabled={submitting}>
            {submitting ? (editing === null ? 'Creating…' : 'Saving…') : editing === null ? 'Create resource' : 'Save changes'}
          </button>
        </>
      }
    >
      <form
        id={formId}
        className="resource-form"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        {errors.general.length > 0 && (
          <div className="callout callout-bad form-errors" data-testid="form-error" role="alert">
            {errors.general.map((message) => (
              <div key={message}>{message}</div>
            ))}
          </div>
        )}

        <fieldset className="form-section">
          <legend>Address</legend>
          <div className="form-grid">
            <Field label="Name" htmlFor={`${formId}-name`} hint={editing === null ? 'letters, digits, . _ -' : 'cannot be changed'} error={errorOf('name')}>
              <input className="input" {...fieldProps('name')} value={values.name} disabled={editing !== null} autoFocus={editing === null} data-autofocus={editing === null || undefined} spellCheck={false} autoComplete="off" onChange={(e) => set('name', e.target.value, 'name')} />
            </Field>
            <div className="field-pair">
              <Field label="Address" htmlFor={`${formId}-ip`} hint="e.g. 10.0.0.50/24 or 2001:db8::50/64" error={errorOf('ip')}>
                <input className="input mono" {...fieldProps('ip')} value={values.ip} autoFocus={editing !== null} data-autofocus={editing !== null || undefined} spellCheck={false} autoComplete="off" onChange={(e) => set('ip', e.target.value, 'ip')} />
              </Field>
              <Field label="Prefix" htmlFor={`${formId}-prefix`} hint="1..32, IPv6 1..128" error={errorOf('prefix')} narrow>
                <input className="input mono" inputMode="numeric" {...fieldProps('prefix')} value={values.prefix} disabled={values.ip.includes('/')} onChange={(e) => set('prefix', e.target.value, 'prefix')} />
              </Field>
            </div>
          </div>
        </fieldset>

        <fieldset className="form-section">
          <legend>Placement</legend>
          <div className="form-grid">
            <Field label="Possible owners" htmlFor={`${formId}-possibleOwners`} hint={`empty = every node · known: ${describeNodes(nodeNames)}`} error={errorOf('possibleOwners')}>
              <input className="input" {...fieldProps('possibleOwners')} value={values.possibleOwners} placeholder="every node" spellCheck={false} autoComplete="off" onChange={(e) => set('possibleOwners', e.target.value, 'possibleOwners')} />
            </Field>
            <Field label="Preferred owners" htmlFor={`${formId}-preferredOwners`} hint="in order of preference, comma separated" error={errorOf('preferredOwners')}>
              <input className="input" {...fieldProps('preferredOwners')} value={values.preferredOwners} placeholder="none" spellCheck={false} autoComplete="off" onChange={(e) => set('preferredOwners', e.target.value, 'preferredOwners')} />
            </Field>
            <Field label="Failback" htmlFor={`${formId}-failback`} hint="when a preferred owner comes back" error={errorOf('failback')}>
              <select className="input" {...fieldProps('failback')} value={values.failbackMode} onChange={(e) => set('failbackMode', e.target.value as FailbackMode, 'failback')}>
                <option value="never">Never</option>
                <option value="immediate">Immediately</option>
                <option value="window">In a time window</option>
              </select>
            </Field>
            {values.failbackMode === 'window' ? (
              <div className="field-pair">
                <Field label="From hour" htmlFor={`${formId}-failback.startHour`} hint="0..23, node local time" error={errorOf('failback.startHour')} narrow>
                  <input className="input mono" inputMode="numeric" {...fieldProps('failback.startHour')} value={values.startHour} onChange={(e) => set('startHour', e.target.value, 'failback.startHour')} />
                </Field>
                <Field label="Until hour" htmlFor={`${formId}-failback.endHour`} hint="exclusive; may wrap midnight" error={errorOf('failback.endHour')} narrow>
                  <input className="input mono" inputMode="numeric" {...fieldProps('failback.endHour')} value={values.endHour} onChange={(e) => set('endHour', e.target.value, 'failback.endHour')} />
                </Field>
              </div>
            ) : (
              <div />
            )}
            <Field label="Interfaces" htmlFor={`${formId}-interfaces`} hint="node=interface pairs; a node without one uses the interface in the subnet" error={errorOf('interfaces')} wide>
              <input className="input mono" {...fieldProps('interfaces')} value={values.interfaces} placeholder="n1=eth1, n2=eth1" spellCheck={false} autoComplete="off" onChange={(e) => set('interfaces', e.target.value, 'interfaces')} />
            </Field>
          </div>
        </fieldset>

        <fieldset className="form-section">
          <legend>ARP behaviour</legend>
          <div className="form-grid">
            <Field label="Announce with" htmlFor={`${formId}-announceForm`} hint="gratuitous ARP form" error={errorOf('announceForm')}>
              <select className="input" {...fieldProps('announceForm')} value={values.announceForm} onChange={(e) => set('announceForm', e.target.value as ResourceFormValues['announceForm'], 'announceForm')}>
                {ANNOUNCE_FORM_OPTIONS.map((form) => (
                  <option key={form} value={form}>
                    {form === 'both' ? 'request and reply' : form}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Re-announce every" htmlFor={`${formId}-announceRefreshSec`} hint="seconds; empty = never (for routers whose ARP caches outlive a move)" error={errorOf('announceRefreshSec')}>
              <input className="input mono" inputMode="numeric" {...fieldProps('announceRefreshSec')} value={values.announceRefreshSec} placeholder="never" onChange={(e) => set('announceRefreshSec', e.target.value, 'announceRefreshSec')} />
            </Field>
            <Field label="Defend" htmlFor={`${formId}-defendPolicy`} hint="RFC 5227 §2.4 when another station claims it" error={errorOf('defendPolicy')}>
              <select className="input" {...fieldProps('defendPolicy')} value={values.defendPolicy} onChange={(e) => set('defendPolicy', e.target.value as ResourceFormValues['defendPolicy'], 'defendPolicy')}>
                {DEFEND_POLICY_OPTIONS.map((policy) => (
                  <option key={policy} value={policy}>
                    {policy === 'never' ? 'never (yield at once)' : policy === 'once' ? 'once, then yield' : 'always'}
                  </option>
                ))}
              </select>
            </Field>
            <label className="checkbox" htmlFor={`${formId}-enabled`}>
              <input type="checkbox" {...fieldProps('enabled')} checked={values.enabled} onChange={(e) => set('enabled', e.target.checked, 'enabled')} />
              <span>
                Online
                <span className="field-hint">the cluster keeps it online; clear to define it offline</span>
              </span>
              {errorOf('enabled')}
            </label>
          </div>
        </fieldset>
        <fieldset className="form-section">
          <legend>Health checks</legend>
          <div className="form-grid">
            <Field label="Checks" htmlFor={`${formId}-health`} wide hint="one per line, all must pass: tcp:HOST:PORT, http://HOST:PORT/PATH (=CODE), exec:/PROGRAM ARGS, gateway or gateway:IP; empty = none" error={errorOf('health')}>
              <textarea className="input mono" rows={3} {...fieldProps('health')} value={values.checks} placeholder="tcp:127.0.0.1:80" spellCheck={false} onChange={(e) => set('checks', e.target.value, 'health')} />
            </Field>
            <Field label="Interval" htmlFor={`${formId}-checkIntervalMs`} narrow hint="ms; default 2000" error={null}>
              <input className="input mono" inputMode="numeric" id={`${formId}-checkIntervalMs`} data-testid="field-checkIntervalMs" value={values.checkIntervalMs} placeholder="2000" onChange={(e) => set('checkIntervalMs', e.target.value, 'health')} />
            </Field>
            <Field label="Timeout" htmlFor={`${formId}-checkTimeoutMs`} narrow hint="ms; default 1000" error={null}>
              <input className="input mono" inputMode="numeric" id={`${formId}-checkTimeoutMs`} data-testid="field-checkTimeoutMs" value={values.checkTimeoutMs} placeholder="1000" onChange={(e) => set('checkTimeoutMs', e.target.value, 'health')} />
            </Field>
            <Field label="Fall" htmlFor={`${formId}-checkFall`} narrow hint="failed runs to fail; default 3" error={null}>
              <input className="input mono" inputMode="numeric" id={`${formId}-checkFall`} data-testid="field-checkFall" value={values.checkFall} placeholder="3" onChange={(e) => set('checkFall', e.target.value, 'health')} />
            </Field>
            <Field label="Rise" htmlFor={`${formId}-checkRise`} narrow hint="passed runs to recover; default 2" error={null}>
              <input className="input mono" inputMode="numeric" id={`${formId}-checkRise`} data-testid="field-checkRise" value={values.checkRise} placeholder="2" onChange={(e) => set('checkRise', e.target.value, 'health')} />
            </Field>
          </div>
        </fieldset>
        <fieldset className="form-section">
          <legend>On a failure</legend>
          <div className="form-grid">
            <Field label="Retries" htmlFor={`${formId}-retries`} narrow hint="on the node that failed, then it is banned; default 1" error={errorOf('retries')}>
              <input className="input mono" inputMode="numeric" {...fieldProps('retries')} value={values.retries} placeholder="1" onChange={(e) => set('retries', e.target.value, 'retries')} />
            </Field>
            <Field label="Ban for" htmlFor={`${formId}-banForSec`} narrow hint="seconds; default 600" error={errorOf('banForSec')}>
              <input className="input mono" inputMode="numeric" {...fieldProps('banForSec')} value={values.banForSec} placeholder="600" onChange={(e) => set('banForSec', e.target.value, 'banForSec')} />
            </Field>
            <Field label="Failover threshold" htmlFor={`${formId}-failoverThreshold`} hint="moves caused by failures per window, e.g. 5/1h; empty = no limit" error={errorOf('failoverThreshold')}>
              <input className="input mono" {...fieldProps('failoverThreshold')} value={values.failoverThreshold} placeholder="no limit" onChange={(e) => set('failoverThreshold', e.target.value, 'failoverThreshold')} />
            </Field>
          </div>
        </fieldset>
      </form>
    </Dialog>
  );
}

function Field({ label, htmlFor, hint, error, children, narrow = false, wide = false }: { label: string; htmlFor: string; hint?: string; error: ReactNode; children: ReactNode; narrow?: boolean; wide?: boolean }) {
  return (
    <div className={`field${narrow ? ' field-narrow' : ''}${wide ? ' field-wide' : ''}${error === null ? '' : ' field-invalid'}`}>
      <label className="field-label" htmlFor={htmlFor}>
        {label}
      </label>
      {children}
      {error ?? (hint !== undefined && <span className="field-hint">{hint}</span>)}
    </div>
  );
}

function describeNodes(names: readonly string[]): string {
  if (names.length === 0) return 'none yet';
  return names.length <= 6 ? names.join(', ') : `${names.slice(0, 6).join(', ')} and ${names.length - 6} more`;
}

function focusFirstError(errors: FormErrors): void {
  const first = Object.keys(errors.fields).find((field) => errors.fields[field as FormField] !== undefined);
  if (first === undefined) return;
  // After React has rendered the messages.
  window.requestAnimationFrame(() => document.querySelector<HTMLElement>(`[data-testid="field-${CSS.escape(first)}"]`)?.focus());
}
