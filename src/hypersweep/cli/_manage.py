"""Commands that manage studies: tag, note, rename, delete."""

from __future__ import annotations

import click

from hypersweep.cli._app import cli
from hypersweep.cli._options import store_option
from hypersweep.cli._render import err
from hypersweep.query import delete_study, note_study, rename_study, tag_study
from hypersweep.store import opened

__all__ = ["delete", "note", "rename", "tag"]


@cli.command()
@click.argument("name")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@store_option
def tag(name: str, pairs: tuple[str, ...], store: str | None) -> None:
    """Set tags on study NAME (KEY= with no value removes a tag)."""
    tags: dict[str, str | None] = {}
    for p in pairs:
        key, sep, value = p.partition("=")
        if not sep or not key:
            raise click.UsageError(f"tags are KEY=VALUE, got {p!r}")
        tags[key] = value or None  # KEY= removes the tag
    with opened(store) as st:
        study = tag_study(st, name, tags)
    err.print(f"{study.name}: " + ", ".join(f"{k}={v}" for k, v in study.tags.items()))


@cli.command()
@click.argument("name")
@click.argument("text")
@store_option
def note(name: str, text: str, store: str | None) -> None:
    """Attach a note to study NAME (replaces the previous one)."""
    with opened(store) as st:
        note_study(st, name, text)


@cli.command()
@click.argument("old")
@click.argument("new")
@store_option
def rename(old: str, new: str, store: str | None) -> None:
    """Rename a study (refused while a driver runs it)."""
    with opened(store) as st:
        rename_study(st, old, new)
    err.print(f"renamed {old!r} to {new!r}")


@cli.command()
@click.argument("name")
@store_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(name: str, store: str | None, yes: bool) -> None:
    """Delete a study and all its trials (refused while a driver runs it)."""
    with opened(store) as st:
        st.get_study(name)
        if not yes and not click.confirm(f"delete study {name!r} and all its trials?", default=False):
            raise click.exceptions.Abort()
        n = delete_study(st, name)
    err.print(f"deleted {name!r} ({n} trials)")
