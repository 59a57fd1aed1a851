"""wandb.config and run.summary: the trial's params under the script's defaults, locked as in W&B."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from ._util import warn
from .errors import ConfigError, UsageError

_RESERVED = ("step", "hypersweep_artifact")  # keys the runner reads specially


# -- config ------------------------------------------------------------------------------------------------
def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"config keys must be strings, not {type(key).__name__}")
    return key.strip("-")


def _friendly(value: Any) -> Any:
    """numpy/torch values as plain Python values, as W&B stores them."""
    if isinstance(value, str | int | float | bool | type(None) | list | dict | tuple):
        return value
    if isinstance(value, argparse.Namespace):
        return {k: _friendly(v) for k, v in vars(value).items()}
    ndim = getattr(value, "ndim", None)
    if ndim == 0 and hasattr(value, "item"):
        return value.item()
    if isinstance(ndim, int) and hasattr(value, "tolist"):
        return value.tolist()
    return value


def _load_config_file(path: str, must_exist: bool) -> dict[str, Any]:
    """A W&B config file (``config-defaults.yaml``): ``key: {value: x, desc: ...}`` or ``key: x``."""
    if not os.path.isfile(path):
        if must_exist:
            raise UsageError(f"config file {path!r} does not exist")
        return {}
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        import yaml  # type: ignore[import-untyped]

        data = yaml.safe_load(text)
    except ImportError:
        try:
            data = json.loads(text)
        except ValueError:
            warn(f"config-file:{path}", f"cannot read {path}: PyYAML is not installed (ignored)")
            return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for k, v in data.items():
        if k in ("wandb_version", "_wandb"):
            continue
        out[str(k)] = v["value"] if isinstance(v, dict) and "value" in v else v
    return out


def _parse_config(
    params: Any, include: Any = None, exclude: Any = None, *, where: str = "config"
) -> dict[str, Any]:
    """A config argument as W&B reads it: a mapping, an argparse Namespace (or any object with
    ``__dict__``), absl flags, or the path of a YAML config file."""
    if include and exclude:
        raise UsageError("Expected at most only one of exclude or include")
    if params is None:
        out: dict[str, Any] = {}
    elif isinstance(params, str | os.PathLike):
        out = _load_config_file(os.fspath(params), must_exist=True)
    elif isinstance(params, Mapping):
        out = dict(params)
    elif hasattr(params, "flag_values_dict"):  # absl.flags.FLAGS
        out = dict(params.flag_values_dict())
    elif hasattr(params, "__dict__"):
        out = {k: v for k, v in vars(params).items() if not k.startswith("_")}
    else:
        raise TypeError(f"{where} must be a dict or have a __dict__ attribute, not {type(params).__name__}")
    if include:
        out = {k: v for k, v in out.items() if k in include}
    if exclude:
        out = {k: v for k, v in out.items() if k not in exclude}
    return out


def _merge_dicts(dest: dict[str, Any], src: Mapping[str, Any]) -> dict[str, Any]:
    """W&B's ``config_util.merge_dicts``: ``src`` into ``dest``, nested dicts merged key by key."""
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dest.get(key), dict):
            dest[key] = _merge_dicts(dict(dest[key]), value)
        else:
            dest[key] = value
    return dest


class _ItemsView:
    """The read-only mapping face that ``wandb.config`` and ``run.summary`` share (over ``_items``)."""

    _items: dict[str, Any]

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)

    def keys(self) -> Any:
        return self._items.keys()

    def items(self) -> Any:
        return self._items.items()

    def values(self) -> Any:
        return self._items.values()

    def get(self, key: str, default: Any = None) -> Any:
        return self._items.get(key, default)


class Config(_ItemsView):
    """``wandb.config``: attribute and item access; keys set by the sweep are locked (their updates are
    ignored with a warning), and changing another key's value needs ``allow_val_change=True``, as in W&B."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_locked", {})
        object.__setattr__(self, "_allow_val_change", False)

    # access
    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"'Config' object has no attribute {key!r}") from None

    def as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    # changes
    def _check_locked(self, key: str) -> bool:
        user = self._locked.get(key)
        if user is None:
            return False
        warn(f"config-locked:{key}", f"Config item '{key}' was locked by '{user}' (ignored update).")
        return True

    def __setitem__(self, key: str, value: Any) -> None:
        key = _key(key)
        if self._check_locked(key):
            return
        self._items[key] = _friendly(value)

    def __setattr__(self, key: str, value: Any) -> None:
        self.__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        del self._items[key]

    def update(self, d: Any, allow_val_change: bool | None = None) -> None:
        allow = self._allow_val_change if allow_val_change is None else allow_val_change
        todo: dict[str, Any] = {}
        for k, v in _parse_config(d).items():
            key = _key(k)
            if self._check_locked(key):
                continue
            value = _friendly(v)
            if not allow and key in self._items and self._items[key] != value:
                raise ConfigError(
                    f'Attempted to change value of key "{key}" from {self._items[key]} to {value}\n'
                    "If you really want to do this, pass allow_val_change=True to config.update()"
                )
            todo[key] = value
        self._items.update(todo)

    def setdefaults(self, d: Any) -> None:
        for k, v in _parse_config(d).items():
            key = _key(k)
            if key not in self._items:
                self._items[key] = _friendly(v)

    def update_locked(self, d: Mapping[str, Any], user: str = "sweep") -> None:
        for k, v in d.items():
            key = _key(k)
            self._items[key] = _friendly(v)
            self._locked[key] = user

    def merge_locked(self, d: Mapping[str, Any], user: str = "sweep") -> None:
        """Like W&B's ``Config.merge_locked``: a dict value is merged into the script's dict default of the
        same key (recursively), any other value replaces it; the top-level keys are locked."""
        for k, v in d.items():
            key = _key(k)
            value = _friendly(v)
            old = self._items.get(key)
            if isinstance(old, dict) and isinstance(value, dict):
                value = _merge_dicts(dict(old), value)
            self._items[key] = value
            self._locked[key] = user

    def persist(self) -> None:
        """W&B writes the config file here; the stand-in has nothing to write."""


# -- summary -----------------------------------------------------------------------------------------------
class Summary(_ItemsView):
    """``run.summary``: the last logged value of each key, overridden by values the script sets; the
    values the script sets become final metrics of the trial at finish."""

    def __init__(self) -> None:
        object.__setattr__(self, "_items", {})
        object.__setattr__(self, "_explicit", set())

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        try:
            return self._items[key]
        except KeyError:
            raise AttributeError(f"'Summary' object has no attribute {key!r}") from None

    def __setitem__(self, key: str, value: Any) -> None:
        self._items[key] = value
        self._explicit.add(key)

    def __setattr__(self, key: str, value: Any) -> None:
        self.__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        del self._items[key]
        self._explicit.discard(key)

    def update(self, d: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        for k, v in {**dict(d or {}), **kwargs}.items():
            self[k] = v

    def _as_dict(self) -> dict[str, Any]:
        return dict(self._items)

    def _logged(self, row: Mapping[str, Any]) -> None:
        for k, v in row.items():
            self._items[k] = v
            self._explicit.discard(k)  # its final value is the logged one, already reported

    def _final(self) -> dict[str, Any]:
        return {k: self._items[k] for k in self._explicit if k in self._items}


class _PreInit:
    """``wandb.config`` / ``wandb.summary`` before ``wandb.init()``: using them is an error, as in W&B."""

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)

    def _fail(self, what: str) -> UsageError:
        return UsageError(f"You must call wandb.init() before wandb.{self._name}{what}")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__"):
            raise AttributeError(key)
        raise self._fail(f".{key}")

    def __setattr__(self, key: str, value: Any) -> None:
        raise self._fail(f".{key}")

    def __getitem__(self, key: str) -> Any:
        raise self._fail(f"[{key!r}]")

    def __setitem__(self, key: str, value: Any) -> None:
        raise self._fail(f"[{key!r}]")
