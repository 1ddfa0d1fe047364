// Npcap on Windows: one clear message when `cap` cannot load, and the device name cap opens. Pure.
//
// cap.node links against wpcap.dll and Packet.dll at load time (cap's binding.gyp: wpcap.lib). When
// Npcap is not installed, or was installed WITHOUT "WinPcap API-compatible mode" (then its DLLs live
// in System32\Npcap, which is not on the DLL search path), require('cap') fails inside Node's
// process.dlopen with code ERR_DLOPEN_FAILED and Windows' text for error 126, "The specified module
// could not be found." followed by the path of cap.node, in the UI language of the host. An old
// WinPcap (4.1.x) has the DLLs but lacks functions cap imports: error 127, "The specified procedure
// could not be found.". A cap.node built for another Node/Electron ABI or architecture fails too, but
// that is a build problem, not Npcap's, and is left to the generic message.

export const NPCAP_URL = 'https://npcap.com';

export const NPCAP_MISSING_MESSAGE =
  `Npcap is not installed: install it from ${NPCAP_URL} with 'WinPcap API-compatible mode' checked ` +
  '(the packet capture library wpcap.dll could not be loaded), then start the agent again.';

export const NPCAP_TOO_OLD_MESSAGE =
  `The installed packet capture library (WinPcap or an old Npcap) is too old: uninstall WinPcap, install Npcap from ${NPCAP_URL} ` +
  "with 'WinPcap API-compatible mode' checked, then start the agent again.";

export type NpcapProblem = { code: 'NPCAP_MISSING' | 'NPCAP_TOO_OLD'; message: string };

/** Error 126 (module not found) as Windows words it in common UI languages. */
const MODULE_NOT_FOUND = [
  /specified module could not be found/i, // en
  /angegebene Modul wurde nicht gefunden/i, // de
  /module sp[ée]cifi[ée] est introuvable/i, // fr
  /no se puede encontrar el m[óo]dulo especificado/i, // es
  /impossibile trovare il modulo specificato/i, // it
  /找不到指定的模块/, // zh-CN
  /指定されたモジュールが見つかりません/, // ja
  /error 126\b|\b0x7e\b/i,
];

/** Error 127 (procedure not found). */
const PROCEDURE_NOT_FOUND = [/specified procedure could not be found/i, /angegebene Prozedur wurde nicht gefunden/i, /proc[ée]dure sp[ée]cifi[ée]e est introuvable/i, /error 127\b/i, /找不到指定的程序/];

/** Not Npcap's fault: cap.node built for another Node ABI or CPU. */
const BUILD_PROBLEM = [/NODE_MODULE_VERSION|compiled against a different Node\.js version/i, /not a valid Win32 application|%1 is not a valid/i];

function messageAndCode(error: unknown): { message: string; code: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { message: error.message, code: typeof code === 'string' ? code : '' };
  }
  return { message: String(error), code: '' };
}

/**
 * The Npcap problem behind an error from loading `cap` (require('cap')) on Windows, or null when it is
 * something else (cap not built, wrong ABI, not Windows). Call it only on win32.
 */
export function npcapLoadProblem(error: unknown): NpcapProblem | null {
  const { message, code } = messageAndCode(error);
  const namesPcapDll = /\b(?:wpcap|Packet)\.dll\b/i.test(message);
  const fromCapNode = /cap\.node/i.test(message);
  if (!namesPcapDll && !(code === 'ERR_DLOPEN_FAILED' && fromCapNode)) return null;
  if (BUILD_PROBLEM.some((re) => re.test(message))) return null;
  if (PROCEDURE_NOT_FOUND.some((re) => re.test(message))) return { code: 'NPCAP_TOO_OLD', message: NPCAP_TOO_OLD_MESSAGE };
  if (namesPcapDll || MODULE_NOT_FOUND.some((re) => re.test(message))) return { code: 'NPCAP_MISSING', message: NPCAP_MISSING_MESSAGE };
  // Any other dlopen failure of cap.node on Windows (an unlisted UI language) is still, in practice,
  // its capture DLLs: say so, with Windows' own words kept for the record.
  return { code: 'NPCAP_MISSING', message: `${NPCAP_MISSING_MESSAGE} (Windows said: ${message.split(/\r?\n/)[0] ?? ''})` };
}

/** The device cap opens on Windows for an adapter: \Device\NPF_{GUID} (Get-NetAdapter's InterfaceGuid). */
export function npcapDeviceName(interfaceGuid: string): string {
  if (!/^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/.test(interfaceGuid)) {
    throw new Error(`not an interface GUID like {4D36E972-E325-11CE-BFC1-08002BE10318}: ${JSON.stringify(interfaceGuid.slice(0, 64))}`);
  }
  return `\\Device\\NPF_${interfaceGuid.toUpperCase()}`;
}
