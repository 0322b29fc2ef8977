@echo off
rem Drop ledger files or a folder on this file: check (annotated copy), compute (xlsx) and the bulletin
rem (docx) for the latest complete month, written in a folder beside the input, which then opens.
rem The messages are Chinese and come from python\jindu_drop.py: this file stays ASCII for any code page.
setlocal
"%~dp0python\python.exe" "%~dp0python\jindu_drop.py" township %*
set rc=%errorlevel%
if not "%rc%"=="0" pause >nul
exit /b %rc%
