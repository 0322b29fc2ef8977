"""Start reading the ledger named on the command line before the options are processed.

Processing the options costs typer 0.15–0.2 s (it imports pydantic to build its converters), and the
command then imports pandas: time in which the workbook's sheets can already be parsed in the background
(ledgers.read_ahead). The files are found here by the command's own parameter declarations; a guess that
is wrong costs time only, as load_ledgers takes up a reading only for the very file it reads.
"""

from __future__ import annotations

import contextlib

HELP = {"-h", "--help"}
# Commands that read their ledgers in this process, with load_ledgers. Not batch: its workers are forked
# processes, each reading files of its own (a reading thread must not be running at a fork).
READERS = frozenset({"validate", "compute", "explain", "report"})


def input_tokens(group, args: list[str]) -> list[str] | None:
    """The tokens of `args` that the command they name takes as its `inputs` argument (the ledger files);
    None when that command reads no ledgers (or help is asked for)."""
    if HELP & set(args):
        return None
    i = 0
    while i < len(args) and args[i].startswith("-"):  # the group's own options (flags only: --debug)
        i += 1
    command = getattr(group, "commands", {}).get(args[i]) if i < len(args) and args[i] in READERS else None
    if command is None:
        return None
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    names = [p.name for p in arguments]
    if "inputs" not in names:
        return None
    skip = sum(p.nargs for p in arguments[: names.index("inputs")])  # e.g. explain's 指标 before the ledgers
    valued = {opt for p in command.params if p.param_type_name == "option" and not (p.is_flag or p.count)
              for opt in p.opts}
    positional: list[str] = []
    rest = iter(args[i + 1:])
    for token in rest:
        if token == "--":
            positional.extend(rest)
        elif token.startswith("-") and len(token) > 1:
            if token in valued:  # "-f json"; "-fjson" and "--format=json" carry their value
                next(rest, None)
        else:
            positional.append(token)
    return positional[skip:]


def start(group, args: list[str]) -> bool:
    """Read ahead the first ledger file of the command in `args` (of the workspace's ledger folder when the
    command reads ledgers but names none); True when a reading was started."""
    tokens = input_tokens(group, args)
    if tokens is None:
        return False
    from pathlib import Path

    from ..ledgers import read_ahead

    if tokens:
        return read_ahead([Path(t) for t in tokens])  # Path(), as typer gives them: the same labels
    from ..workspace import find_workspace

    try:
        ws = find_workspace()
    except Exception:  # noqa: BLE001 - the command reports a broken jindu.toml itself
        return False
    return bool(ws and ws.ledgers) and read_ahead([ws.ledgers])  # as workspace.resolve_inputs gives it


@contextlib.contextmanager
def reading(group, args: list[str]):
    """The one read-ahead entry of the command line: start() on entry; on exit, a reading the command did not
    take up (it stopped before it read the file: a usage error, say) is closed."""
    started = start(group, args)
    try:
        yield started
    finally:
        if started:
            from ..ledgers import discard_read_ahead

            discard_read_ahead()
