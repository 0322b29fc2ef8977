@echo off
rem jindu with the Python bundled beside this file: works from any folder, and from PATH (the add-to-PATH .cmd).
rem Chinese text: python.exe writes the console in Unicode, and a redirected stdout in the code page
rem (936 on Chinese Windows), which jindu already degrades to what that code page holds.
setlocal
"%~dp0python\python.exe" -m jindu_metrics %*
exit /b %errorlevel%
