@echo off
rem Drop a county folder (one ledger file per township) or a county file on this file: jindu batch for the
rem latest complete month, written in a folder beside the input, which then opens.
setlocal
"%~dp0python\python.exe" "%~dp0python\jindu_drop.py" county %*
set rc=%errorlevel%
if not "%rc%"=="0" pause >nul
exit /b %rc%
