from .interrupt import install_early

install_early(force=True)  # before the CLI's imports (typer, click) start

from .cli import run  # noqa: E402

run()
