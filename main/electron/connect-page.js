// The script of connect.html, the shell's own connection page (the console works without the
// React renderer): connect to the local agent, start one (password prompt), or connect to a
// remembered or new remote cluster. It runs in the sandboxed page and uses window.ipfo only.
//
// Plain browser JavaScript, served as it is: the project compiles TypeScript to CommonJS, which a
// page cannot load without a bundler. It is type-checked all the same, against the DOM and the IPC
// contract, by `npm run typecheck:electron` (tsconfig.electron.json: checkJs).
// @ts-check
'use strict';

(() => {
  /** @typedef {import('../../preload/contract/ipc').IpfoBridge} IpfoBridge */
  /** @typedef {import('../../preload/contract/ipc').IpcError} IpcError */
  /** @typedef {import('../../preload/contract/ipc').ConnectionState} ConnectionState */
  /** @typedef {import('../../preload/contract/ipc').StreamMessage} StreamMessage */
  /** @typedef {import('../../preload/contract/domain').Snapshot} Snapshot */

  const ipfo = /** @type {{ ipfo: IpfoBridge }} */ (/** @type {unknown} */ (window)).ipfo;

  /**
   * @template {HTMLElement} T
   * @param {string} id
   * @param {new () => T} type
   * @returns {T}
   */
  function element(id, type) {
    const found = document.getElementById(id);
    if (!(found instanceof type)) throw new Error(`connect.html has no ${type.name} #${id}`);
    return found;
  }

  const status = element('status', HTMLParagraphElement);
  const remoteFields = /** @type {const} */ (['label', 'address', 'token', 'ca']);

  /** @param {string} text @param {boolean} [isError] */
  function say(text, isError = false) {
    status.textContent = text;
    status.className = isError ? 'status error' : 'status';
  }

  /** @param {ConnectionState} state */
  function describeState(state) {
    const where = state.label === null ? (state.endpoint ?? 'an agent') : `${state.label} (${state.endpoint ?? '?'})`;
    switch (state.phase) {
      case 'connected':
        return `Connected to ${where} as ${state.actor ?? '?'}.`;
      case 'connecting':
        return `Connecting to ${where}…`;
      default:
        return state.detail === null ? 'Not connected.' : `Not connected: ${state.detail}`;
    }
  }

  /** @param {ConnectionState} state */
  function showState(state) {
    if (state.phase !== 'connecting') say(describeState(state), state.phase === 'disconnected' && state.detail !== null);
    element('connected', HTMLElement).hidden = state.phase !== 'connected';
  }

  /**
   * @param {string} field
   * @returns {HTMLInputElement | HTMLTextAreaElement}
   */
  function fieldInput(field) {
    return field === 'ca' ? element(field, HTMLTextAreaElement) : element(field, HTMLInputElement);
  }

  function clearFieldErrors() {
    for (const field of remoteFields) {
      element(`error-${field}`, HTMLParagraphElement).textContent = '';
      fieldInput(field).removeAttribute('aria-invalid');
    }
  }

  /**
   * Puts each issue next to its field; anything without a field goes to the status line.
   * @param {IpcError} error
   */
  function showError(error) {
    const issues = error.issues && error.issues.length > 0 ? error.issues : [{ field: error.field ?? '', message: error.message }];
    /** @type {string | null} */
    let unplaced = null;
    let focused = false;
    for (const issue of issues) {
      const field = remoteFields.find((name) => issue.field === name);
      if (field === undefined) {
        unplaced ??= issue.message;
        continue;
      }
      element(`error-${field}`, HTMLParagraphElement).textContent = issue.message;
      fieldInput(field).setAttribute('aria-invalid', 'true');
      if (!focused) fieldInput(field).focus();
      focused = true;
    }
    say(unplaced ?? 'Please correct the marked fields.', true);
  }

  /** @param {Snapshot} snapshot */
  function showCounts(snapshot) {
    element('connected-summary', HTMLParagraphElement).textContent =
      `${snapshot.nodes.length} nodes, ${snapshot.resources.length} IP resources, ${snapshot.conflicts.length} conflicts.`;
  }

  let countsPending = false;

  /** Counts from a fresh snapshot, at most every 2 s (this page keeps no model of the cluster). */
  function refreshCounts() {
    if (countsPending) return;
    countsPending = true;
    setTimeout(() => {
      countsPending = false;
      void ipfo.request('snapshot', {}).then((result) => {
        if (result.ok) showCounts(result.value.snapshot);
      });
    }, 2_000);
  }

  /**
   * @param {string} text
   * @param {string} label
   * @param {() => void} onClick
   */
  function button(text, label, onClick) {
    const made = document.createElement('button');
    made.type = 'button';
    made.textContent = text;
    made.setAttribute('aria-label', label);
    made.addEventListener('click', onClick);
    return made;
  }

  async function refresh() {
    const listed = await ipfo.connection.list();
    if (!listed.ok) {
      say(listed.error.message, true);
      return;
    }
    const { local, saved, current } = listed.value;
    showState(current);
    element('local-state', HTMLParagraphElement).textContent = local.answering
      ? `An agent answers on ${local.endpoint}.`
      : `No agent answers on ${local.endpoint}.`;
    element('connect-local', HTMLButtonElement).disabled = !local.answering || (current.phase === 'connected' && current.kind === 'local');
    element('start-local', HTMLButtonElement).hidden = !local.canStart || local.answering;

    const items = saved.map((entry) => {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = entry.label;
      const endpoint = document.createElement('span');
      endpoint.className = 'endpoint';
      endpoint.textContent = `${entry.endpoint}${entry.hasCa ? ' · own CA' : ''}`;
      const connect = button('Connect', `Connect to ${entry.label}`, () => void run(() => ipfo.connection.connect({ kind: 'saved', id: entry.id })));
      connect.disabled = current.phase === 'connected' && current.id === entry.id;
      const forget = button('Forget', `Forget ${entry.label}`, () => void run(() => ipfo.connection.forget({ id: entry.id })));
      item.append(name, endpoint, connect, forget);
      return item;
    });
    element('saved', HTMLUListElement).replaceChildren(...items);
    element('saved-empty', HTMLParagraphElement).hidden = saved.length > 0;
  }

  let busy = false;

  /**
   * Runs one action at a time (a second click meanwhile is ignored), then shows its outcome and the new state.
   * @param {() => Promise<{ ok: true, value: unknown } | { ok: false, error: IpcError }>} action
   */
  async function run(action) {
    if (busy) return;
    busy = true;
    try {
      clearFieldErrors();
      const outcome = await action();
      if (!outcome.ok) showError(outcome.error);
      await refresh();
    } finally {
      busy = false;
    }
  }

  element('connect-local', HTMLButtonElement).addEventListener('click', () => void run(() => ipfo.connection.connect({ kind: 'local' })));
  element('disconnect', HTMLButtonElement).addEventListener('click', () => void run(() => ipfo.connection.disconnect()));

  const startButton = element('start-local', HTMLButtonElement);
  startButton.addEventListener('click', () => {
    startButton.disabled = true;
    say('Waiting for the administrator password prompt…');
    void ipfo.connection.startLocalAgent().then(async (outcome) => {
      startButton.disabled = false;
      if (!outcome.ok) {
        say(outcome.error.message, true);
      } else {
        const { outcome: result, detail } = outcome.value;
        // A cancelled prompt is the operator's answer: say so plainly, it is not an error.
        say(result === 'cancelled' ? 'Cancelled: no agent was started.' : `${detail.charAt(0).toUpperCase()}${detail.slice(1)}.`, result === 'failed' || result === 'unsupported');
      }
      await refresh();
    });
  });

  element('remote', HTMLFormElement).addEventListener('submit', (event) => {
    event.preventDefault();
    const ca = fieldInput('ca').value.trim();
    void run(() =>
      ipfo.connection.connect({
        kind: 'remote',
        label: fieldInput('label').value,
        address: fieldInput('address').value,
        token: fieldInput('token').value,
        ca: ca === '' ? null : ca,
        remember: element('remember', HTMLInputElement).checked,
      }),
    ).then(() => {
      fieldInput('token').value = '';
    });
  });

  ipfo.subscribe((/** @type {StreamMessage} */ message) => {
    if (message.type === 'connection') {
      showState(message.connection);
      if (message.connection.phase === 'connected') refreshCounts();
    } else if (message.type === 'snapshot') {
      showCounts(message.snapshot);
    } else {
      refreshCounts();
    }
  });
  void refresh();
})();
