"""The API reference page (book/api.md) documents every public name of ``reluflow``."""

import re
import types
from pathlib import Path

import pytest

import reluflow as rf

API_PAGE = Path(__file__).resolve().parents[1] / "book" / "api.md"


@pytest.mark.parametrize("name", rf.__all__)
def test_public_name_is_in_the_api_reference(name):
    text = API_PAGE.read_text(encoding="utf-8")
    if isinstance(getattr(rf, name), types.ModuleType):
        documented = f".. automodule:: reluflow.{name}\n" in text
    else:
        documented = (
            bool(re.search(rf"\.\. auto(function|class|data):: {name}\n", text)) or f"`rf.{name}`" in text
        )
    assert documented, f"rf.{name} is in reluflow.__all__ but not in book/api.md: add " + (
        f"an `.. automodule:: reluflow.{name}` section"
        if isinstance(getattr(rf, name), types.ModuleType)
        else f"`.. autofunction:: {name}` (or autoclass) under `.. currentmodule:: reluflow`"
    )
