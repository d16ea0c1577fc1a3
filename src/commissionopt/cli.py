"""Command line: parse, call the library, print, exit. No logic of its own."""
from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd

from .errors import CommissionoptError, InputError


class Commands(click.Group):
    """Turns a library error into one line per problem on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
            sys.exit(1)
        except (CommissionoptError, OSError) as e:
            if ctx.params.get("debug"):
                raise
            report_error(e)
            sys.exit(getattr(e, "exit_code", 1))


def report_error(e: Exception) -> None:
    if isinstance(e, InputError):
        for problem in sorted(e.problems, key=lambda p: p.severity != "error"):
            click.echo(str(problem), err=True)
    elif isinstance(e, OSError):
        click.echo(f"error: {e.strerror or e}: {e.filename}" if e.filename else f"error: {e}", err=True)
    else:
        click.echo(f"error: {e}", err=True)


@click.group(cls=Commands)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
def main(debug: bool) -> None:
    """commissionopt: salami slicing against whole-system redesign, on one accounting."""


INSTANCE = click.Path(exists=True, path_type=Path)


def _refuse_overwrite(path: Path, force: bool) -> None:
    if path.exists() and not force:
        raise click.ClickException(f"{path} exists; add --force to replace it")


@main.command()
@click.argument("instance", type=INSTANCE)
def validate(instance: Path) -> None:
    """Check an instance (folder or .xlsx) and summarise its resources and needs."""
    from .data import load_instance, summary
    inst = load_instance(instance)
    click.echo(f"Instance {inst.name}: base year {inst.meta['base_year']}, prices {inst.meta['price_year']}, "
               f"{inst.horizon} years, discount rate {inst.discount_rate:.1%}")
    click.echo(f"Checks: valid, {len(inst.warnings)} warning(s)")
    for problem in inst.warnings:
        click.echo(f"  {problem}")
    _show("Resource database: money (£/year)", summary.money(inst))
    _show("Resource database: workforce", summary.workforce(inst))
    _show("Resource database: buildings by type and owner", summary.buildings(inst))
    _show("Needs database: people in need in the base year (* statutory)",
          _mark_statutory(summary.needs(inst), summary.statutory(inst)), index=True)
    _show("Base-year spend against funding (£/year)", summary.spend_against_funding(inst))


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def template(out: Path, force: bool) -> None:
    """Write a blank instance workbook (.xlsx) to fill in."""
    from .data import write_template
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("the template is a workbook: give a name ending in .xlsx", param_hint="OUT")
    _refuse_overwrite(out, force)
    write_template(out)
    click.echo(f"wrote {out}")


@main.command()
@click.argument("src", type=INSTANCE)
@click.argument("dst", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace DST (a workbook, or the instance files in a folder).")
def convert(src: Path, dst: Path, force: bool) -> None:
    """Convert an instance between a folder of CSV files and an .xlsx workbook."""
    from .data import load_instance, write_instance
    _refuse_overwrite(dst, force)
    inst = load_instance(src, validate=False)  # meaning is `validate`'s job; the data must still read
    write_instance(inst, dst)
    click.echo(f"wrote {dst}")


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:,.2f}"


def _show(title: str, df: pd.DataFrame, index: bool = False) -> None:
    click.echo(f"\n{title}")
    if df.empty:
        click.echo("  (none)")
        return
    click.echo(df.to_string(index=index, float_format=_number, na_rep="-", max_colwidth=40))


def _mark_statutory(need: pd.DataFrame, cover: pd.DataFrame) -> pd.DataFrame:
    shown = need.map(lambda v: "-" if pd.isna(v) else _number(v))
    return shown.where(~(cover.fillna(0) > 0), shown + " *")


if __name__ == "__main__":
    main()
