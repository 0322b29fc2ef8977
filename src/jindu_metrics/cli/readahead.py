"""Start reading the ledger named on the command line before the options are processed.

The options are then processed and the command imports pandas (~0.2 s): time in which the workbook's
sheets can already be parsed in the background (ledgers.read_ahead). (typer from 0.29 would add ~0.15 s
more, converting every option through pydantic; it is held below 0.29.) The files are found by click's own parser over the command objects already built
(the tokens only: no converter, no callback runs), so they are those the command's `inputs` will get; a
reading that is not taken up costs time only, as load_ledgers takes it up only for the very file it reads.
"""

from __future__ import annotations

import contextlib

# Commands whose ledgers are read elsewhere: batch's workers are forked processes, each reading files of
# its own (a reading thread must not be running at a fork).
ELSEWHERE = frozenset({"batch"})


def input_tokens(group, args: list[str]) -> list[str] | None:
    """The tokens of `args` that the command they name takes as its `inputs` argument (the ledger files),
    as click parses them; None when that command reads no ledgers here, help or the version is asked for,
    or the command line is wrong (the command reports it)."""
    from .chinese import is_usage_error

    try:
        ctx = group.context_class(group, info_name="jindu", **group.context_settings)
        values, rest = _parse(group, ctx, args)
        if values is None or not rest or rest[0] in ELSEWHERE:
            return None
        command = group.commands.get(rest[0])
        if command is None or "inputs" not in {p.name for p in command.params}:
            return None
        sub = command.context_class(command, parent=ctx, info_name=rest[0], **command.context_settings)
        values, _ = _parse(command, sub, rest[1:])
    except Exception as exc:  # a usage error: no reading; anything else is the command's to meet
        if is_usage_error(exc):
            return None
        raise
    return None if values is None else list(values.get("inputs") or ())


def _parse(command, ctx, args: list[str]) -> tuple[dict | None, list[str]]:
    """(the values click's parser gives `command`'s parameters, the tokens left); (None, …) when an eager
    option (help, version) is among them: the command will only print."""
    values, rest, order = command.make_parser(ctx).parse_args(args=list(args))
    if any(p.is_eager for p in order):
        return None, rest
    return values, rest


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
