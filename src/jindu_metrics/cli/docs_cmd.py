"""`jindu 说明`: the documentation shipped with the package, for users who have no checkout to open."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from . import chinese
from .common import Output, echo
from .root import app

# topic → (file in jindu_metrics.docs, what it holds); the first word of a topic is enough
TOPICS = {
    "台帐格式": ("台帐格式.md", "每本台帐的列、可接受的写法、校验报告的问题"),
    "指标口径": ("指标口径.md", "每个指标的口径、共同约定、怎样改口径"),
    "模板": ("templates.md", "通报模板可用的变量和过滤器"),
}


def topic_text(topic: str) -> str:
    """The text of a documentation topic (a name of TOPICS, or its first characters)."""
    from importlib import resources

    from ..errors import UsageError

    found = [k for k in TOPICS if k.startswith(topic.strip()) or topic.strip() in (TOPICS[k][0], k + ".md")]
    if len(found) != 1:
        raise UsageError(f"没有这个说明：「{topic}」。可选：{'、'.join(TOPICS)}。")
    return resources.files("jindu_metrics.docs").joinpath(TOPICS[found[0]][0]).read_text(encoding="utf-8")


@app.command("说明", cls=chinese.Command)
def docs_cmd(
    topic: Annotated[Optional[str], typer.Argument(help="说明的主题：台帐格式、指标口径、模板；省略时列出主题。",
                                                   show_default=False, metavar="主题")] = None,
    output: Output = None,
) -> None:
    """显示随程序安装的使用说明（台帐格式、指标口径、通报模板），可另存为文件。

    示例：
      jindu 说明
      jindu 说明 台帐格式
      jindu 说明 指标口径 -o 指标口径.md
    """
    if topic is None:
        echo("可查看的说明（jindu 说明 主题）：")
        for name, (_, what) in TOPICS.items():
            echo(f"  {name}：{what}")
        raise typer.Exit(0)
    text = topic_text(topic)
    if output is not None:
        from ..outputs import atomic_write_bytes

        atomic_write_bytes(output, text.encode("utf-8-sig"))
        echo(f"已写出「{output}」。")
    else:
        echo(text.rstrip("\n"))
    raise typer.Exit(0)
