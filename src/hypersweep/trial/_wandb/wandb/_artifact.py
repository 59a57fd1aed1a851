"""wandb.Artifact and saved files, recorded as hypersweep artifacts."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any

from ._util import unsupported, warn_ignored


# -- artifacts ---------------------------------------------------------------------------------------------
def _artifact_dir() -> str:
    """The trial's ``$HYPERSWEEP_ARTIFACT_DIR`` (files there are collected with the trial) or a temp dir."""
    d = os.environ.get("HYPERSWEEP_ARTIFACT_DIR")
    if d:
        os.makedirs(d, exist_ok=True)
        return os.path.abspath(d)
    return tempfile.mkdtemp(prefix="wandb-run-")


def _in_dir(path: str, folder: str | None) -> bool:
    if not folder:
        return False
    folder = os.path.abspath(folder)
    return os.path.commonpath([os.path.abspath(path), folder]) == folder


class _Entry:
    def __init__(self, path: str, local_path: str) -> None:
        self.path = path
        self.local_path = local_path


class Artifact:
    """``wandb.Artifact``: a named set of files; ``run.log_artifact(artifact)`` records each file as a
    hypersweep artifact named ``<artifact name>/<file name>``."""

    def __init__(
        self,
        name: str,
        type: str = "dataset",  # noqa: A002 - W&B's signature
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        incremental: bool = False,
        use_as: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.name = name
        self.type = type
        self.description = description
        self.metadata = dict(metadata or {})
        self.incremental = incremental
        self.aliases: list[str] = []
        self.tags: list[str] = []
        self.version: str | None = None
        self._files: list[tuple[str, str]] = []
        self._staging: str | None = None

    def __repr__(self) -> str:
        return f"Artifact({self.name!r}, type={self.type!r}, files={len(self._files)})"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise unsupported(f"Artifact.{name}")

    def add_file(
        self, local_path: str | os.PathLike[str], name: str | None = None, is_tmp: bool = False, **kwargs: Any
    ) -> _Entry:
        path = os.path.abspath(os.fspath(local_path))
        if not os.path.isfile(path):
            raise ValueError(f"Path is not a file: {os.fspath(local_path)!r}")
        entry = (name or os.path.basename(path)).replace(os.sep, "/")
        self._files.append((entry, path))
        return _Entry(entry, path)

    def add_dir(self, local_path: str | os.PathLike[str], name: str | None = None, **kwargs: Any) -> None:
        root = os.path.abspath(os.fspath(local_path))
        if not os.path.isdir(root):
            raise ValueError(f"Path is not a directory: {os.fspath(local_path)!r}")
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(folder, f)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                self._files.append((f"{name.rstrip('/')}/{rel}" if name else rel, path))

    @contextlib.contextmanager
    def new_file(self, name: str, mode: str = "x", encoding: str | None = None) -> Iterator[Any]:
        if self._staging is None:
            parent = os.path.dirname(os.environ.get("HYPERSWEEP_ARTIFACT_DIR", "").rstrip(os.sep)) or None
            self._staging = tempfile.mkdtemp(prefix="wandb-artifact-", dir=parent)
        path = os.path.join(self._staging, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, mode, encoding=encoding) as f:
            yield f
        self._files.append((name.replace(os.sep, "/"), path))

    def add_reference(self, uri: Any, name: str | None = None, **kwargs: Any) -> list[Any]:
        warn_ignored("Artifact.add_reference", " (references are not stored)")
        return []

    def add(self, obj: Any, name: str, **kwargs: Any) -> None:
        warn_ignored("Artifact.add", " (W&B objects such as tables are not stored; add files)")

    def remove(self, item: str) -> None:
        self._files = [(n, p) for n, p in self._files if n != item and p != os.path.abspath(item)]

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to upload: the files are recorded when the artifact is logged."""

    def wait(self, *args: Any, **kwargs: Any) -> Artifact:
        return self

    def files(self, *args: Any, **kwargs: Any) -> list[_Entry]:
        return [_Entry(n, p) for n, p in self._files]
