"""Load one of the project's scripts (scripts/*.py, not a package) as a module, for the tests that check it runs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as the module ``qa_<name>`` (registered first: dataclasses look their module up)."""
    spec = importlib.util.spec_from_file_location(f"qa_{name}", SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
