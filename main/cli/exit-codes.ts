// The exit codes scripts can rely on (also printed by `ipfo help`).
export const EXIT = {
  ok: 0,
  runtime: 1,
  badInput: 2,
  conflict: 3,
  /** Something the environment must fix: a permission or capability, libpcap, an etcd that refuses our credentials. */
  environment: 4,
} as const;
