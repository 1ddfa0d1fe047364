; NSIS include for electron-builder (electron-builder.yml: nsis.include): the "Install the agent service" option.
;
; The agent is the app's own CLI (`ipfo agent`), shipped inside the app and run by the app's own runtime
; through bin\ipfo.cmd (Electron's run-as-node mode), so a node needs no separate Node.js. `ipfo agent
; install` / `ipfo agent uninstall` (main/cli/commands/agent-service.ts) create and remove it as a boot task
; running as SYSTEM (task ipfo-agent, main/service/windows.ts: why not an SCM service), installed disabled
; until %ProgramData%\ipfo\agent.json is configured. This file only decides when to call them.
;
;   interactive install: a page after the directory page with an "Install the agent service" checkbox
;   silent install:      setup.exe /S /agent-service
;   update:              the old version's uninstaller only stops the agent (so its files can be replaced)
;                        and keeps the task as it was, enabled or not; the new version starts it again
;   uninstall:           ipfo.cmd agent uninstall (stops and removes the task; keeps the configuration)
;
; electron-builder compiles this file twice (installer, then uninstaller with BUILD_UNINSTALLER defined) with
; warnings as errors, so everything the uninstaller does not use is kept out of its build.

!define IPFO_CMD "$INSTDIR\resources\app.asar.unpacked\bin\ipfo.cmd"
!define IPFO_TASK "ipfo-agent"

!ifndef BUILD_UNINSTALLER
  !include nsDialogs.nsh
  !include LogicLib.nsh
  !include FileFunc.nsh

  Var ipfoAgentService ; "1": the agent is to be installed
  Var ipfoAgentBefore ; "1": the version being replaced had it installed
  Var ipfoAgentCheckbox

  !macro customInit
    ; Read now: an update's old uninstaller deletes electron-builder's registry key before customInstall runs.
    ReadRegStr $ipfoAgentBefore SHELL_CONTEXT "${INSTALL_REGISTRY_KEY}" "AgentService"
    StrCpy $ipfoAgentService $ipfoAgentBefore
    ${GetParameters} $R0
    ClearErrors
    ${GetOptions} $R0 "/agent-service" $R1
    ${IfNot} ${Errors}
      StrCpy $ipfoAgentService "1"
    ${EndIf}
  !macroend

  !macro customPageAfterChangeDir
    Page custom ipfoAgentPageCreate ipfoAgentPageLeave

    Function ipfoAgentPageCreate
      ${If} ${isUpdated}
        Abort ; an update keeps the previous choice without asking
      ${EndIf}
      !insertmacro MUI_HEADER_TEXT "Node agent" "Should this computer hold the cluster's virtual IP addresses?"
      nsDialogs::Create 1018
      Pop $0
      ${If} $0 == error
        Abort
      ${EndIf}
      ${NSD_CreateLabel} 0 0 100% 60u "The agent claims, announces and defends virtual IP addresses on this computer and serves the console. It starts at boot as SYSTEM under the app's own runtime (task ${IPFO_TASK}) and needs Npcap (https://npcap.com).$\r$\n$\r$\nIt is installed disabled: configure %ProgramData%\ipfo\agent.json, then enable it (see the README). Leave this off on a computer that only runs the console; ipfo.cmd agent install adds it later."
      Pop $0
      ${NSD_CreateCheckbox} 0 66u 100% 12u "&Install the agent service"
      Pop $ipfoAgentCheckbox
      ${If} $ipfoAgentService == "1"
        ${NSD_Check} $ipfoAgentCheckbox
      ${EndIf}
      nsDialogs::Show
    FunctionEnd

    Function ipfoAgentPageLeave
      ${NSD_GetState} $ipfoAgentCheckbox $0
      ${If} $0 == ${BST_CHECKED}
        StrCpy $ipfoAgentService "1"
      ${Else}
        StrCpy $ipfoAgentService "0"
      ${EndIf}
    FunctionEnd
  !macroend

  !macro customInstall
    ${If} ${isUpdated}
    ${AndIf} $ipfoAgentBefore == "1"
      ; The task survived the update: start the agent again (a disabled task stays off).
      WriteRegStr SHELL_CONTEXT "${INSTALL_REGISTRY_KEY}" "AgentService" "1"
      nsExec::ExecToLog '"$SYSDIR\schtasks.exe" /Run /TN ${IPFO_TASK}'
      Pop $0
    ${ElseIf} $ipfoAgentService == "1"
      DetailPrint "Installing the agent: ipfo.cmd agent install"
      nsExec::ExecToLog '"$SYSDIR\cmd.exe" /d /c ""${IPFO_CMD}" agent install"'
      Pop $0
      ${If} $0 == "0"
        WriteRegStr SHELL_CONTEXT "${INSTALL_REGISTRY_KEY}" "AgentService" "1"
      ${Else}
        DetailPrint "ipfo agent install failed (exit code $0)"
        MessageBox MB_ICONEXCLAMATION|MB_OK "The agent could not be installed (exit code $0).$\r$\nThe console is installed. Run, as administrator:$\r$\n$\"${IPFO_CMD}$\" agent install" /SD IDOK
      ${EndIf}
    ${EndIf}
  !macroend
!else
  !macro customUnInstall
    ; Runs before the files are removed; the flag is read before electron-builder deletes its registry key.
    ReadRegStr $0 SHELL_CONTEXT "${INSTALL_REGISTRY_KEY}" "AgentService"
    ${If} $0 == "1"
      ${If} ${isUpdated}
        ; Keep the task (and whether it is enabled); stop the agent so that its files can be replaced.
        nsExec::ExecToLog '"$SYSDIR\schtasks.exe" /End /TN ${IPFO_TASK}'
        Pop $0
      ${ElseIf} ${FileExists} "${IPFO_CMD}"
        DetailPrint "Removing the agent: ipfo.cmd agent uninstall"
        nsExec::ExecToLog '"$SYSDIR\cmd.exe" /d /c ""${IPFO_CMD}" agent uninstall"'
        Pop $0
      ${EndIf}
    ${EndIf}
  !macroend
!endif
