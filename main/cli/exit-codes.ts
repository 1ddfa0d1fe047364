// The exit codes scripts can rely on (also printed by `ipfo help`).
export const EXIT = {
  ok: 0,
  runtime: 1,
  badInput: 2,
  conflict: 3,
  /** Something the environment must fix: a permission or capability, libpcap, an etcd that refuses our credentials. */
  environment: 4,
  /** Two MACs answered for one address at once: `ipfo witness` saw a double MAC, `ipfo watch --audit` a duplicate. */
  doubleMac: 5,
  /** `ipfo witness`: the address never answered. */
  noAnswer: 6,
} as const;
