// Whether a string may name a Linux network interface: a pure check, so the cluster's validation and
// the CLI's parsers can use it without the /sys reader in interfaces.ts.

export class InterfaceError extends Error {
  constructor(readonly code: 'BAD_IFNAME' | 'NO_SUCH_INTERFACE' | 'NOT_ETHERNET', message: string) {
    super(message);
    this.name = 'InterfaceError';
  }
}

const IFNAMSIZ = 16; // the kernel's limit including the terminating NUL

/** Throws InterfaceError BAD_IFNAME unless `name` is a name Linux could have given an interface. */
export function validateIfname(name: string): void {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes === 0 || bytes > IFNAMSIZ - 1) {
    throw new InterfaceError('BAD_IFNAME', `invalid interface name "${name}": must be 1 to ${IFNAMSIZ - 1} bytes`);
  }
  // The kernel refuses '/', ':' (alias syntax), whitespace and NUL; ';' is refused by us so that a name can never
  // look like a command separator in any log or shell an administrator pastes it into.
  if (name === '.' || name === '..' || /[\s/:;\0]/.test(name)) {
    throw new InterfaceError('BAD_IFNAME', `invalid interface name "${name}": no spaces, '/', ':', ';' or NUL allowed`);
  }
}
