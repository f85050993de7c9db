"""The DGA trainer's modules (tools/*.py), imported as the trainer imports them: as scripts'
neighbours, not a package. None of them needs the training extra to import."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

TOOLS = str(Path(__file__).resolve().parents[1] / "tools")


def trainer_module(name: str) -> ModuleType:
    if TOOLS not in sys.path:
        sys.path.append(TOOLS)  # appended: nothing of the tests' own is shadowed
    return importlib.import_module(name)
