// The Electron entry point (package.json "main"): `electron .` runs this file.
import { startShell } from './main';

startShell();
