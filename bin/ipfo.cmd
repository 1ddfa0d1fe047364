@echo off
rem The node-level command (`ipfo`) on Windows, run by the application's own runtime: Electron in its
rem run-as-node mode (ELECTRON_RUN_AS_NODE=1), so a node needs no separate Node.js.
rem Installed as <install dir>\resources\app.asar.unpacked\bin\ipfo.cmd; it runs bin\ipfo from inside
rem resources\app.asar (which loads the compiled CLI, build\main\cli\ipfo.js, from the same archive).
rem From a source checkout (no packaged app around it) it falls back to `node bin\ipfo`.
setlocal
for %%I in ("%~dp0..\..") do set "IPFO_RESOURCES=%%~fI"
for %%I in ("%IPFO_RESOURCES%\..") do set "IPFO_APP_DIR=%%~fI"
set "IPFO_RUNTIME=%IPFO_APP_DIR%\IP Failover Console.exe"
if not exist "%IPFO_RUNTIME%" goto source_checkout
set "ELECTRON_RUN_AS_NODE=1"
"%IPFO_RUNTIME%" "%IPFO_RESOURCES%\app.asar\bin\ipfo" %*
exit /b %ERRORLEVEL%

:source_checkout
node "%~dp0ipfo" %*
exit /b %ERRORLEVEL%
