@echo off
rem Adds this folder to the current user's PATH (HKCU\Environment, no administrator rights), so that
rem "jindu" works in any new console. The remove-from-PATH .cmd beside it undoes it.
setlocal
"%~dp0python\python.exe" "%~dp0python\jindu_drop.py" path-add
set rc=%errorlevel%
pause >nul
exit /b %rc%
