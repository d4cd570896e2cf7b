"""The ``foncier`` command: one sub-command per module of this package.

Every module of :mod:`foncier.cli` (other than those starting with ``_``)
defines its commands on :data:`foncier.cli._main.main`; they are imported
here so that adding a command never means editing a shared file.
"""

import importlib
import pkgutil

from foncier.cli._main import main

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["main"]
