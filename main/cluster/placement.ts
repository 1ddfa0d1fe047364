// The placement rules are shared with the console, so they live in the contract; the engine's
// planners keep importing them from here.
export * from '../../preload/contract/placement';
