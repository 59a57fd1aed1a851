"""Media, settings and metric definitions: accepted and ignored offline."""

from __future__ import annotations

import enum
from typing import Any

from ._util import warn_ignored


# -- media, settings ---------------------------------------------------------------------------------------
class _Media:
    """W&B's media types: accepted and ignored (only numbers become metrics)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        warn_ignored(f"wandb.{type(self).__name__}", " (media and tables are not recorded; numbers are)")


class Image(_Media):
    pass


class Histogram(_Media):
    pass


class Audio(_Media):
    pass


class Video(_Media):
    pass


class Html(_Media):
    pass


class Object3D(_Media):
    pass


class Plotly(_Media):
    pass


class Molecule(_Media):
    pass


class Table(_Media):
    """``wandb.Table``: keeps its rows (so scripts that read them back work), never recorded."""

    def __init__(
        self,
        columns: list[str] | None = None,
        data: list[list[Any]] | None = None,
        rows: list[list[Any]] | None = None,
        dataframe: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        if dataframe is not None:
            columns = [str(c) for c in dataframe.columns]
            data = dataframe.values.tolist()
        self.columns = list(columns or [])
        self.data = [list(r) for r in (data if data is not None else rows or [])]

    def add_data(self, *values: Any) -> None:
        self.data.append(list(values))

    def add_column(self, name: str, data: list[Any], optional: bool = False) -> None:
        self.columns.append(name)
        for row, v in zip(self.data, data, strict=False):
            row.append(v)

    def get_column(self, name: str, convert_to: str | None = None) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.data]

    def get_index(self) -> list[int]:
        return list(range(len(self.data)))


class Settings:
    """``wandb.Settings(...)``: accepted; the stand-in has no settings that matter."""

    def __init__(self, **kwargs: Any) -> None:
        self.__dict__.update(kwargs)


class AlertLevel(enum.Enum):
    INFO = "INFO"
    WARN = "WARN"
    ERROR = "ERROR"


class _Metric:
    """What ``define_metric`` returns (ignored)."""

    def __init__(self, name: str, **kwargs: Any) -> None:
        self.name = name
        self.__dict__.update(kwargs)
