// The exit codes scripts can rely on (also printed by `ipfo help`).
export const EXIT = {
  ok: 0,
  runtime: 1,
  badInput: 2,
  conflict: 3,
  environment: 4,
} as const;
