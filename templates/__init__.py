"""The shipped bulletin templates: Jinja2 text files an office copies and edits (variables: docs/templates.md).

They live at the top of the checkout so that they are found and edited as files, not as code; the build
installs this folder as the package data `jindu_metrics.templates` (pyproject.toml, package-dir). This file
only makes that mapping work for editable installs too.
"""
