// The console's model (model/console-model.ts) in a Web Worker: the cluster's resources live and are
// collected here, not on the page's main thread. Requests come from model-port.ts, in order; each
// answer is the digest of one request, or nothing when the page's view did not change.
import { ConsoleModel, type ModelRequest } from '../model/console-model';

const model = new ConsoleModel();
const scope = self as unknown as { onmessage: ((event: MessageEvent<ModelRequest>) => void) | null; postMessage(message: unknown): void };

scope.onmessage = (event) => {
  const digest = model.handle(event.data);
  if (digest !== null) scope.postMessage(digest);
};
scope.postMessage('ready');
