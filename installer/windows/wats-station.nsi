; WATS Station installer for Windows (NSIS 3, Unicode). See docs/install.md.
;
; Build (the Windows workflow does this; scripts/build-and-smoke compiles it on Linux with a
; stand-in payload so mistakes are caught):
;   makensis -DVERSION=0.1.0 -DVERSION4=0.1.0.0 -DPAYLOAD=dist\wats-station.exe
;            -DICON=build\resources\wats-station.ico -DOUTFILE=dist\wats-station-0.1.0-setup.exe
;            installer\windows\wats-station.nsi
;
; Installer command line (all optional; /D=DIR must come last, as always with NSIS):
;   /S                 silent
;   /CURRENTUSER       install for the current user only (the default; no administrator rights)
;   /ALLUSERS          install for all users (needs administrator rights)
;   /AUTOSTART=1|0     start the worker at login (per user) or as a Windows service at boot
;                      (all users); default 1, or what the installed version had
;   /SERVER=URL        WATS server URL       } written to the first configuration; on an
;   /TOKEN=TOKEN       server token           } upgrade they replace those settings in the
;   /STATION=NAME      station name           } existing configuration (nothing else changes)
;   /DROPFOLDER=DIR    watch folder for the WSJF converter (first configuration only)
;   /D=DIR             installation folder
; Uninstaller: /S silent, /PURGE also delete the station's configuration, queue, logs, token.
;
; Exit codes: 0 done; 1 cancelled or failed; 2 the configuration could not be written;
; 3 start at login could not be registered; 740 administrator rights needed (/ALLUSERS).

Unicode true
ManifestDPIAware true
RequestExecutionLevel user
SetCompressor /SOLID lzma

!macro Require name
  !ifndef ${name}
    !error "define ${name} on the makensis command line (-D${name}=...; see the header)"
  !endif
!macroend
!insertmacro Require VERSION
!insertmacro Require VERSION4
!insertmacro Require PAYLOAD
!insertmacro Require ICON
!insertmacro Require OUTFILE

!define PRODUCT "WATS Station"
!define EXE "wats-station.exe"
!define PUBLISHER "WATS Station project"
!define UNINST_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\WATS Station"
!define APP_KEY "Software\WATS Station"
!define SERVICE_NAME "wats-station-default"
!define ERROR_ELEVATION_REQUIRED 740

Name "${PRODUCT}"
OutFile "${OUTFILE}"
BrandingText "${PRODUCT} ${VERSION}"
ShowInstDetails show
ShowUninstDetails show

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "FileDescription" "${PRODUCT} installer"
VIAddVersionKey "LegalCopyright" "Copyright (c) ${PUBLISHER}"

!include "MUI2.nsh"
!include "LogicLib.nsh"
!include "FileFunc.nsh"
!include "nsDialogs.nsh"
!include "Sections.nsh"
!include "x64.nsh"


Var AllUsers        ; 1: per machine, 0: per user
Var ModeGiven       ; 1: /ALLUSERS or /CURRENTUSER was on the command line
Var GivenDir        ; /D=DIR, if any
Var PrevDir         ; folder of the installed version (upgrade), else ""
Var PrevAutoStart   ; what the installed version had registered
Var PrevAllUsers    ; the installed version's mode
Var AutoStartGiven  ; 1: /AUTOSTART= was on the command line
Var AutoStart
Var IsAdmin
Var OptServer
Var OptToken
Var OptStation
Var OptDrop
Var DataHome        ; per-machine service: the station's folder (WATS_STATION_HOME)
Var WasRunning      ; a worker of this user answered before the upgrade
Var Failed          ; exit code to report at the end (0: fine)
Var ModeDialog
Var ModeJustMe
Var ModeEveryone
Var Output

; ------------------------------------------------------------------ pages

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_SMALLDESC
!define MUI_FINISHPAGE_RUN ""
!define MUI_FINISHPAGE_RUN_TEXT "Start ${PRODUCT}"
!define MUI_FINISHPAGE_RUN_FUNCTION LaunchApp

!insertmacro MUI_PAGE_WELCOME
Page custom ModePageCreate ModePageLeave
!define MUI_PAGE_CUSTOMFUNCTION_PRE SkipOnUpgrade
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_COMPONENTS
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ------------------------------------------------------------------ helpers

; Append a line to the install log (next to the program) and to the details view.
!macro Log text
  DetailPrint `${text}`
  FileOpen $9 "$INSTDIR\install.log" a
  FileSeek $9 0 END
  FileWrite $9 `${text}$\r$\n`
  FileClose $9
!macroend

; Run a command and wait; $0 = exit code, $Output = what it printed. `shown` is what the
; log says was run (a token never goes into the log).
!macro Run command shown
  nsExec::ExecToStack '${command}'
  Pop $0
  Pop $Output
  !insertmacro Log `${shown} -> exit $0`
  ${If} $Output != ""
    !insertmacro Log "$Output"
  ${EndIf}
!macroend

!macro SetContext
  ${If} $AllUsers == 1
    SetShellVarContext all
  ${Else}
    SetShellVarContext current
  ${EndIf}
!macroend

; ------------------------------------------------------------------ sections

Section "${PRODUCT}" SecMain
  SectionIn RO
  CreateDirectory "$INSTDIR"
  !insertmacro Log "${PRODUCT} ${VERSION}: installing into $INSTDIR (all users: $AllUsers)"
  ${If} ${FileExists} "$INSTDIR\${EXE}"
    Call StopRunning
  ${EndIf}
  SetOutPath "$INSTDIR"
  File "/oname=${EXE}" "${PAYLOAD}"
  File "/oname=wats-station.ico" "${ICON}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
SectionEnd

Section "Start menu shortcut" SecStartMenu
  CreateShortcut "$SMPROGRAMS\${PRODUCT}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  CreateShortcut "$DESKTOP\${PRODUCT}.lnk" "$INSTDIR\${EXE}" "" "$INSTDIR\${EXE}" 0
SectionEnd

Section "Start at login" SecAutoStart
  ; Registered in the hidden section below, once the configuration is written.
SectionEnd

Section "-Configure" SecConfigure
  ${IfNot} ${SectionIsSelected} ${SecStartMenu}
    Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  ${EndIf}
  ${IfNot} ${SectionIsSelected} ${SecDesktop}
    Delete "$DESKTOP\${PRODUCT}.lnk"
  ${EndIf}
  StrCpy $DataHome ""
  StrCpy $R8 ""
  ${If} $AllUsers == 1
  ${AndIf} ${SectionIsSelected} ${SecAutoStart}
    ; The service runs as LocalSystem: its station lives in ProgramData, readable only by
    ; SYSTEM and administrators, with the token in a file there (LocalSystem cannot read a
    ; user's Credential Manager).
    StrCpy $DataHome "$APPDATA\${PRODUCT}"
    CreateDirectory "$DataHome"
    !insertmacro Run 'icacls.exe "$DataHome" /inheritance:r /grant:r *S-1-5-18:(OI)(CI)F *S-1-5-32-544:(OI)(CI)F' 'icacls "$DataHome" (SYSTEM and Administrators only)'
    System::Call 'Kernel32::SetEnvironmentVariable(t "WATS_STATION_HOME", t "$DataHome")i'
    StrCpy $R8 " --secret-store file"
  ${EndIf}

  ${If} $OptServer$OptToken$OptStation$OptDrop == ""
    Return
  ${EndIf}
  ; Where the configuration is (app.core.paths): WATS_STATION_HOME, else the user's folder.
  ReadEnvStr $R4 WATS_STATION_HOME
  ${If} $DataHome != ""
    StrCpy $R3 "$DataHome\default\config\config.json"
  ${ElseIf} $R4 != ""
    StrCpy $R3 "$R4\default\config\config.json"
  ${Else}
    SetShellVarContext current
    StrCpy $R3 "$LOCALAPPDATA\${PRODUCT}\default\config.json"
    !insertmacro SetContext
  ${EndIf}
  ${If} ${FileExists} $R3
    Goto keep_config
  ${EndIf}
  StrCpy $R0 '"$INSTDIR\${EXE}" config init --no-input$R8'
  StrCpy $R1 'config init --no-input$R8'
  ${If} $OptServer != ""
    StrCpy $R0 '$R0 --server "$OptServer"'
    StrCpy $R1 '$R1 --server "$OptServer"'
  ${EndIf}
  ${If} $OptToken != ""
    StrCpy $R0 '$R0 --token "$OptToken"'
    StrCpy $R1 '$R1 --token ***'
  ${EndIf}
  ${If} $OptStation != ""
    StrCpy $R0 '$R0 --station "$OptStation"'
    StrCpy $R1 '$R1 --station "$OptStation"'
  ${EndIf}
  ${If} $OptDrop != ""
    StrCpy $R0 '$R0 --watch-folder "$OptDrop"'
    StrCpy $R1 '$R1 --watch-folder "$OptDrop"'
  ${EndIf}
  !insertmacro Run $R0 $R1
  ${If} $0 != 0
    StrCpy $Failed 2
    ${IfNot} ${Silent}
      MessageBox MB_ICONEXCLAMATION|MB_OK "The configuration could not be written:$\r$\n$Output"
    ${EndIf}
  ${EndIf}
  Return

keep_config:
  ; Upgrade: the existing configuration stays; only the settings given now change.
  !insertmacro Log "Keeping the existing configuration $R3"
  ${If} $OptServer != ""
    !insertmacro Run '"$INSTDIR\${EXE}" config set server.url --value "$OptServer"' 'config set server.url --value "$OptServer"'
    ${If} $0 != 0
      StrCpy $Failed 2
    ${EndIf}
  ${EndIf}
  ${If} $OptStation != ""
    !insertmacro Run '"$INSTDIR\${EXE}" config set station.name --value "$OptStation"' 'config set station.name --value "$OptStation"'
    ${If} $0 != 0
      StrCpy $Failed 2
    ${EndIf}
  ${EndIf}
  ${If} $OptToken != ""
    !insertmacro Run '"$INSTDIR\${EXE}" config set token --value "$OptToken"' 'config set token --value ***'
    ${If} $0 != 0
      StrCpy $Failed 2
    ${EndIf}
  ${EndIf}
  ${If} $OptDrop != ""
    !insertmacro Log "/DROPFOLDER is only used for a first configuration; add converters in the program"
  ${EndIf}
SectionEnd

Section "-Register" SecRegister
  StrCpy $R8 ""
  ${If} $AllUsers == 1
    StrCpy $R8 " --system"
  ${EndIf}
  ${If} ${SectionIsSelected} ${SecAutoStart}
    ; Registers the worker (and, per user, the tray) and starts it now.
    !insertmacro Run '"$INSTDIR\${EXE}" service install$R8' 'service install$R8'
    ${If} $0 != 0
      StrCpy $Failed 3
      ${IfNot} ${Silent}
        MessageBox MB_ICONEXCLAMATION|MB_OK "${PRODUCT} could not be set up to start automatically:$\r$\n$Output"
      ${EndIf}
    ${EndIf}
    WriteRegDWORD SHCTX "${APP_KEY}" "AutoStart" 1
  ${Else}
    ${If} $PrevAutoStart == 1
      !insertmacro Run '"$INSTDIR\${EXE}" service uninstall$R8' 'service uninstall$R8'
    ${EndIf}
    WriteRegDWORD SHCTX "${APP_KEY}" "AutoStart" 0
    ${If} $WasRunning == 1
      ; The upgrade stopped a worker the user had running: bring it back.
      Exec '"$INSTDIR\${EXE}" --service'
    ${EndIf}
  ${EndIf}
SectionEnd

Section "-Uninstall information" SecUninstallInfo
  WriteRegStr SHCTX "${APP_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr SHCTX "${APP_KEY}" "Version" "${VERSION}"
  WriteRegDWORD SHCTX "${APP_KEY}" "AllUsers" $AllUsers
  WriteRegStr SHCTX "${APP_KEY}" "DataHome" "$DataHome"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr SHCTX "${UNINST_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr SHCTX "${UNINST_KEY}" "DisplayIcon" "$INSTDIR\${EXE},0"
  WriteRegStr SHCTX "${UNINST_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr SHCTX "${UNINST_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr SHCTX "${UNINST_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoModify" 1
  WriteRegDWORD SHCTX "${UNINST_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $R0 $R1 $R2
  IntFmt $R0 "0x%08X" $R0
  WriteRegDWORD SHCTX "${UNINST_KEY}" "EstimatedSize" "$R0"
  !insertmacro Log "Done (exit code $Failed)"
  SetErrorLevel $Failed
SectionEnd

!insertmacro MUI_FUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${SecMain} "The program: tray, worker and command line."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecStartMenu} "A ${PRODUCT} entry in the Start menu."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecDesktop} "A ${PRODUCT} icon on the desktop."
  !insertmacro MUI_DESCRIPTION_TEXT ${SecAutoStart} "Start the worker automatically, so files are uploaded even when nobody opens the program."
!insertmacro MUI_FUNCTION_DESCRIPTION_END

; ------------------------------------------------------------------ installer functions

Function RelaunchElevated
  ; Per-machine installs need an administrator: start this installer again through UAC.
  ${GetParameters} $R0
  ExecShell "runas" "$EXEPATH" "/ALLUSERS $R0"
  Quit
FunctionEnd

Function ApplyMode
  !insertmacro SetContext
  ${If} $GivenDir != ""
    StrCpy $INSTDIR $GivenDir
  ${ElseIf} $PrevDir != ""
    StrCpy $INSTDIR $PrevDir
  ${ElseIf} $AllUsers == 1
    ${If} ${RunningX64}
      StrCpy $INSTDIR "$PROGRAMFILES64\${PRODUCT}"
    ${Else}
      StrCpy $INSTDIR "$PROGRAMFILES\${PRODUCT}"
    ${EndIf}
  ${Else}
    StrCpy $INSTDIR "$LOCALAPPDATA\Programs\${PRODUCT}"
  ${EndIf}
  ${If} $AllUsers == 1
    SectionSetText ${SecAutoStart} "Run as a Windows service at boot"
  ${Else}
    SectionSetText ${SecAutoStart} "Start at login"
  ${EndIf}
FunctionEnd

Function .onInit
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
  StrCpy $GivenDir $INSTDIR
  StrCpy $Failed 0
  StrCpy $WasRunning 0
  UserInfo::GetAccountType
  Pop $R0
  ${If} $R0 == "Admin"
    StrCpy $IsAdmin 1
  ${Else}
    StrCpy $IsAdmin 0
  ${EndIf}

  ; An installed version decides the mode and folder of an upgrade.
  StrCpy $AllUsers 0
  StrCpy $PrevAutoStart 1
  ReadRegStr $PrevDir HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $PrevDir != ""
    StrCpy $AllUsers 1
    ReadRegDWORD $PrevAutoStart HKLM "${APP_KEY}" "AutoStart"
  ${Else}
    ReadRegStr $PrevDir HKCU "${UNINST_KEY}" "InstallLocation"
    ${If} $PrevDir != ""
      ReadRegDWORD $PrevAutoStart HKCU "${APP_KEY}" "AutoStart"
    ${EndIf}
  ${EndIf}
  ${If} $PrevAutoStart == ""
    StrCpy $PrevAutoStart 0
  ${EndIf}
  StrCpy $PrevAllUsers $AllUsers

  ${GetParameters} $R0
  StrCpy $ModeGiven 0
  ClearErrors
  ${GetOptions} $R0 "/ALLUSERS" $R1
  ${IfNot} ${Errors}
    StrCpy $AllUsers 1
    StrCpy $ModeGiven 1
  ${EndIf}
  ClearErrors
  ${GetOptions} $R0 "/CURRENTUSER" $R1
  ${IfNot} ${Errors}
    StrCpy $AllUsers 0
    StrCpy $ModeGiven 1
  ${EndIf}
  ${If} $ModeGiven == 1
  ${AndIf} $AllUsers != $PrevAllUsers
    ; The other mode than the installed one: a separate, new installation.
    StrCpy $PrevDir ""
    StrCpy $PrevAutoStart 0
  ${EndIf}
  ${If} $PrevDir != ""
    StrCpy $AutoStart $PrevAutoStart
  ${Else}
    StrCpy $AutoStart 1
  ${EndIf}
  StrCpy $AutoStartGiven 0
  ClearErrors
  ${GetOptions} $R0 "/AUTOSTART=" $R1
  ${IfNot} ${Errors}
    StrCpy $AutoStartGiven 1
    ${If} $R1 == "0"
      StrCpy $AutoStart 0
    ${Else}
      StrCpy $AutoStart 1
    ${EndIf}
  ${EndIf}
  ${GetOptions} $R0 "/SERVER=" $OptServer
  ${GetOptions} $R0 "/TOKEN=" $OptToken
  ${GetOptions} $R0 "/STATION=" $OptStation
  ${GetOptions} $R0 "/DROPFOLDER=" $OptDrop
  ClearErrors

  ${If} $AllUsers == 1
  ${AndIf} $AutoStartGiven == 0
  ${AndIf} $PrevDir == ""
  ${AndIfNot} ${Silent}
    ; Interactively, a service at boot is a choice to make; a silent roll-out wants it.
    StrCpy $AutoStart 0
  ${EndIf}

  ${If} $AllUsers == 1
  ${AndIf} $IsAdmin != 1
    ${If} ${Silent}
      ; Nobody to ask: say so through the exit code.
      SetErrorLevel ${ERROR_ELEVATION_REQUIRED}
      Quit
    ${EndIf}
    Call RelaunchElevated
  ${EndIf}

  ${If} $AutoStart == 1
    !insertmacro SelectSection ${SecAutoStart}
  ${Else}
    !insertmacro UnselectSection ${SecAutoStart}
  ${EndIf}
  Call ApplyMode
FunctionEnd

; ------------------------------------------------------------------ install-mode page

Function ModePageCreate
  ${If} $ModeGiven == 1
  ${OrIf} $PrevDir != ""
    Abort ; chosen on the command line, or an upgrade keeps the installed mode
  ${EndIf}
  !insertmacro MUI_HEADER_TEXT "Choose users" "Who should be able to use ${PRODUCT}?"
  nsDialogs::Create 1018
  Pop $ModeDialog
  ${NSD_CreateLabel} 0 0 100% 24u "Install ${PRODUCT} only for you (no administrator rights needed), or for everyone who uses this computer."
  Pop $R0
  ${NSD_CreateRadioButton} 10u 32u 100% 12u "Only for me (recommended)"
  Pop $ModeJustMe
  ${NSD_CreateRadioButton} 10u 48u 100% 12u "For all users of this computer (needs administrator rights)"
  Pop $ModeEveryone
  ${If} $AllUsers == 1
    ${NSD_Check} $ModeEveryone
  ${Else}
    ${NSD_Check} $ModeJustMe
  ${EndIf}
  nsDialogs::Show
FunctionEnd

Function ModePageLeave
  ${NSD_GetState} $ModeEveryone $R0
  ${If} $R0 == ${BST_CHECKED}
    StrCpy $AllUsers 1
    ${If} $IsAdmin != 1
      Call RelaunchElevated
    ${EndIf}
  ${Else}
    StrCpy $AllUsers 0
  ${EndIf}
  ${If} $AutoStartGiven == 0
    ; Per user, starting at login is the norm; a service at boot is a choice to make.
    ${If} $AllUsers == 1
      !insertmacro UnselectSection ${SecAutoStart}
    ${Else}
      !insertmacro SelectSection ${SecAutoStart}
    ${EndIf}
  ${EndIf}
  Call ApplyMode
FunctionEnd

Function SkipOnUpgrade
  ${If} $PrevDir != ""
    Abort ; an upgrade goes where the installed version is
  ${EndIf}
FunctionEnd

Function LaunchApp
  ; Through Explorer, so the GUI runs with the user's normal rights even after UAC.
  Exec '"$WINDIR\explorer.exe" "$INSTDIR\${EXE}"'
FunctionEnd


; Stop what runs from the installed version so its files can be replaced (upgrade).
Function StopRunning
  !insertmacro Log "Stopping the running version before replacing it"
  ${If} $AllUsers == 1
    !insertmacro Run 'net.exe stop ${SERVICE_NAME}' 'net stop ${SERVICE_NAME}'
  ${EndIf}
  ; The user's worker finishes its uploads in flight and stops (exit 7: none was running).
  !insertmacro Run '"$INSTDIR\${EXE}" stop' 'stop'
  ${If} $0 == 0
    StrCpy $WasRunning 1
  ${EndIf}
  ; The GUI (and anything that did not answer) still holds the file: end it.
  ${If} $AllUsers == 1
    !insertmacro Run 'taskkill.exe /F /IM ${EXE}' 'taskkill /F /IM ${EXE}'
  ${Else}
    ReadEnvStr $R0 USERNAME
    !insertmacro Run 'taskkill.exe /F /IM ${EXE} /FI "USERNAME eq $R0"' 'taskkill /F /IM ${EXE} (this user)'
  ${EndIf}
  StrCpy $R1 0
  ${Do}
    ClearErrors
    Delete "$INSTDIR\${EXE}"
    ${IfNot} ${FileExists} "$INSTDIR\${EXE}"
      ${Break}
    ${EndIf}
    IntOp $R1 $R1 + 1
    ${If} $R1 >= 60
      !insertmacro Log "$INSTDIR\${EXE} is still in use"
      ${If} ${Silent}
        SetErrorLevel 1
        Quit
      ${EndIf}
      MessageBox MB_RETRYCANCEL|MB_ICONEXCLAMATION "${PRODUCT} is still running. Close it and choose Retry." IDRETRY +2
      Quit
      StrCpy $R1 0
    ${EndIf}
    Sleep 500
  ${Loop}
FunctionEnd

; ------------------------------------------------------------------ uninstaller

Var UnAllUsers
Var UnDataHome


Section "-un.Stop"
  StrCpy $R8 ""
  ${If} $UnAllUsers == 1
    StrCpy $R8 " --system"
  ${EndIf}
  ${If} $UnDataHome != ""
    System::Call 'Kernel32::SetEnvironmentVariable(t "WATS_STATION_HOME", t "$UnDataHome")i'
  ${EndIf}
  ; Stops the registered worker and removes the registration (and the tray's Run value).
  nsExec::ExecToLog '"$INSTDIR\${EXE}" service uninstall$R8'
  Pop $0
  DetailPrint "service uninstall$R8 -> exit $0"
  ; A worker the GUI started is not registered: ask it to stop, then end what is left.
  nsExec::ExecToLog '"$INSTDIR\${EXE}" stop'
  Pop $0
  ${If} $UnAllUsers == 1
    nsExec::ExecToLog 'taskkill.exe /F /IM ${EXE}'
  ${Else}
    ReadEnvStr $R0 USERNAME
    nsExec::ExecToLog 'taskkill.exe /F /IM ${EXE} /FI "USERNAME eq $R0"'
  ${EndIf}
  Pop $0
SectionEnd

Section /o "un.Delete the station's configuration, queue, logs and token" UnSecData
  ; The token lives in the Credential Manager (or a file in the station's folder).
  nsExec::ExecToLog '"$INSTDIR\${EXE}" config set token --delete'
  Pop $0
  ${If} $UnDataHome != ""
    RMDir /r "$UnDataHome"
  ${EndIf}
  ; platformdirs folders of the current user: config, data and logs; the runtime folder.
  RMDir /r "$LOCALAPPDATA\${PRODUCT}"
  RMDir /r "$LOCALAPPDATA\Temp\${PRODUCT}"
  DetailPrint "Station data deleted (the testers' drop folders are not touched)"
SectionEnd

Section "-un.Program"
  Delete "$SMPROGRAMS\${PRODUCT}.lnk"
  Delete "$DESKTOP\${PRODUCT}.lnk"
  Delete "$INSTDIR\${EXE}"
  Delete "$INSTDIR\wats-station.ico"
  Delete "$INSTDIR\install.log"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  ${If} $UnAllUsers == 1
    DeleteRegKey HKLM "${UNINST_KEY}"
    DeleteRegKey HKLM "${APP_KEY}"
  ${Else}
    DeleteRegKey HKCU "${UNINST_KEY}"
    DeleteRegKey HKCU "${APP_KEY}"
  ${EndIf}
SectionEnd

!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecData} "Also delete the configuration, the report queue (including reports not uploaded yet), the logs and the stored token. Kept by default, for a later reinstall."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

Function un.onInit
  ${If} ${RunningX64}
    SetRegView 64
  ${EndIf}
  StrCpy $UnAllUsers 0
  ReadRegStr $R0 HKLM "${UNINST_KEY}" "InstallLocation"
  ${If} $R0 == $INSTDIR
    StrCpy $UnAllUsers 1
  ${EndIf}
  ${If} $UnAllUsers == 1
    SetShellVarContext all
    ReadRegStr $UnDataHome HKLM "${APP_KEY}" "DataHome"
    UserInfo::GetAccountType
    Pop $R1
    ${If} $R1 != "Admin"
      ${If} ${Silent}
        SetErrorLevel ${ERROR_ELEVATION_REQUIRED}
        Quit
      ${EndIf}
      ${GetParameters} $R2
      ExecShell "runas" "$INSTDIR\uninstall.exe" "$R2"
      Quit
    ${EndIf}
  ${Else}
    SetShellVarContext current
    ReadRegStr $UnDataHome HKCU "${APP_KEY}" "DataHome"
  ${EndIf}
  ${GetParameters} $R2
  ClearErrors
  ${GetOptions} $R2 "/PURGE" $R3
  ${IfNot} ${Errors}
    !insertmacro SelectSection ${UnSecData}
  ${EndIf}
FunctionEnd
