"""What keeps `bundler --help`, `bundler --version` and a small solve quick to start (issue 11).

A command module imports, at module level, only what its signature needs (typer, pathlib, typing): its
body imports the rest, and its rich consoles come from `bundler.app.console()`, made when first used
(rich costs ~30 ms to import). What cannot simply move into a function body:

- `defer_rich_extras()`: typer renders help with `typer.rich_utils`, which imports `rich.markdown`
  (markdown-it, ~45 ms) and `rich.traceback` (pygments via rich.syntax, ~20 ms) at its top although
  it uses them only for `rich_markup_mode="markdown"` and for pretty tracebacks, neither of which
  bundler uses. While `typer.rich_utils` is being imported, those two modules are stand-ins whose
  names import the real module when first called; afterwards the stand-ins leave `sys.modules`, so
  any other importer gets the real modules. The help text is the same (tests/test_startup.py).
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec



# The modules typer.rich_utils imports at its top but uses only on paths bundler never takes.
_DEFERRED = ("rich.markdown", "rich.traceback")


class _StandIn(types.ModuleType):
    """A module whose every public name is a `_deferred` class of the real module of that name."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # the import system probes __path__, __file__, ...: not ours to fake
            raise AttributeError(name)
        return _deferred(self.__name__, name)


def _deferred(module: str, name: str) -> type:
    """A class standing for `module.name`: calling it, or reading an attribute of it
    (`Traceback.from_exception`), imports the real module and forwards there. It is a class, so
    annotations such as `Union[Markdown, Text]` evaluate as they do with the real one."""

    def real() -> Any:
        if isinstance(sys.modules.get(module), _StandIn):  # used during the import after all
            raise ImportError(f"{module} is needed while typer.rich_utils is imported")
        return getattr(importlib.import_module(module), name)

    class Deferred(type):
        def __call__(cls, *args: Any, **kwargs: Any) -> Any:
            return real()(*args, **kwargs)

        def __getattr__(cls, attr: str) -> Any:
            if attr.startswith("__"):
                raise AttributeError(attr)
            return getattr(real(), attr)

    return Deferred(name, (), {"__module__": module, "__qualname__": name})


class _StandInLoader:
    """Runs the real loader of typer.rich_utils with the stand-ins in sys.modules."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> types.ModuleType | None:
        return cast("types.ModuleType | None", self._loader.create_module(spec))

    def exec_module(self, module: types.ModuleType) -> None:
        installed = {name: _StandIn(name) for name in _DEFERRED if name not in sys.modules}
        sys.modules.update(installed)
        try:
            self._loader.exec_module(module)
        except Exception:  # a typer that uses them at import time: import it the ordinary way
            self._remove(installed)
            self._loader.exec_module(module)
        finally:
            self._remove(installed)

    @staticmethod
    def _remove(installed: dict[str, _StandIn]) -> None:
        for name, stub in installed.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]

    def __getattr__(self, name: str) -> Any:  # get_source, is_package, ... for linecache and inspect
        return getattr(self._loader, name)


class _RichUtilsFinder:
    """A meta path finder for typer.rich_utils only: the real spec, with _StandInLoader around its loader."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        if fullname != "typer.rich_utils":
            return None
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _StandInLoader(spec.loader)  # type: ignore[assignment]
        return spec


def defer_rich_extras() -> None:
    """Make the next import of typer.rich_utils skip rich.markdown and rich.traceback (see above)."""
    if "typer.rich_utils" in sys.modules or any(isinstance(f, _RichUtilsFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _RichUtilsFinder())  # type: ignore[arg-type]
