// What the views may ask the console to do; App carries the requests out and reports the outcome.
// Function-valued properties (not methods): views pass them around detached from the object.

export interface ResourceActions {
  /** Opens the move dialog; `target` preselects a node (a drop on a node column). */
  readonly openMove: (name: string, target?: string) => void;
  readonly online: (name: string) => void;
  readonly offline: (name: string) => void;
  readonly edit: (name: string) => void;
  readonly remove: (name: string) => void;
}

export interface NodeActions {
  readonly pause: (name: string) => void;
  readonly resume: (name: string) => void;
}
