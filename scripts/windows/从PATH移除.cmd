@echo off
rem Removes this folder from the current user's PATH again (what the add-to-PATH .cmd added).
setlocal
"%~dp0python\python.exe" "%~dp0python\jindu_drop.py" path-remove
set rc=%errorlevel%
pause >nul
exit /b %rc%
