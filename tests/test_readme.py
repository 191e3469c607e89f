"""The README's library example runs as written."""

import re
from pathlib import Path

import matplotlib

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    assert blocks, "README.md has no ```python example"
    matplotlib.use("Agg")
    for code in blocks:
        exec(compile(code, str(README), "exec"), {})  # noqa: S102
