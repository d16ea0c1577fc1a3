"""Command line: parse, call the library, print, exit. No logic of its own."""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd

from .errors import CommissionoptError, InputError


class Commands(click.Group):
    """Turns a library error into one line per problem on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            with _stop_on_sigterm():
                return super().invoke(ctx)
        except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
            sys.exit(1)
        except (CommissionoptError, OSError) as e:
            if ctx.params.get("debug"):
                raise
            report_error(e)
            sys.exit(getattr(e, "exit_code", 1))


@contextmanager
def _stop_on_sigterm():
    """A SIGTERM (a kill, a CI timeout) unwinds like Ctrl-C, so that outputs being written
    leave no temporary behind; the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


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


FORCE = click.option("--force", is_flag=True, help="Replace outputs (--out, --xlsx, --html) that exist.")


def _free(force: bool, *paths) -> None:
    """Refuse, before any work, to replace an output that exists (unless --force)."""
    from .atomic import check_free
    for path in paths:
        if path is not None:
            check_free(path, force)


def _load(instance: Path, scenarios) -> tuple:
    """The instance with each --scenario applied in order, and the scenarios' settings."""
    from .data import load_instance
    inst = load_instance(instance)
    if not scenarios:
        return inst, {}
    from .data.scenario import apply_scenarios
    return apply_scenarios(inst, list(scenarios))


def _cut(given: str | None, settings: dict, default):
    """--cut when given, else the scenarios' budget_cut, else the default."""
    from .model.index import parse_cut
    if given is not None:
        return parse_cut(given)
    if settings.get("budget_cut") is not None:
        return settings["budget_cut"]
    return parse_cut(default)


SCENARIO = click.option("--scenario", "scenarios", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                        help="A what-if scenario file (docs/scenarios.md); may repeat, applied in order.")


@main.command()
@click.argument("instance", type=INSTANCE)
@SCENARIO
def validate(instance: Path, scenarios) -> None:
    """Check an instance (folder or .xlsx), with any scenarios applied, and summarise it."""
    from .data import summary
    inst, settings = _load(instance, scenarios)
    for change in inst.changes:
        click.echo(f"scenario change: {change}")
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


REPO = Path(__file__).resolve().parents[2]
DEFAULT_INSTANCE = "instances/shire_county"
DEFAULT_CUT = "1:0.0625,2:0.125,3:0.1875,4:0.25"  # 25% over four years


def _instance_path(given: Path | None) -> Path:
    """The instance named, or the shipped default (looked for here, then beside the package)."""
    if given is not None:
        return given
    here = Path(DEFAULT_INSTANCE)
    return here if here.exists() else REPO / DEFAULT_INSTANCE


def _cut_text(by_year: dict) -> str:
    """The cut a plan ran at: one share, or year:share where it changes."""
    shares = list(by_year.values())
    if len(set(shares)) <= 1:
        return f"{shares[0]:g}" if shares else "0"
    out, last = [], None
    for y, v in by_year.items():
        if v != last:
            out.append(f"{y}:{v:g}")
            last = v
    return ",".join(out)


def _solver_overrides(time_limit, gap, threads) -> dict:
    """The solver flags given: they beat the model files' own `solver:` settings."""
    return {k: v for k, v in (("time_limit", time_limit), ("mip_rel_gap", gap), ("threads", threads)) if v is not None}


def _plan_exit(plan) -> None:
    """Exit codes: 3 infeasible, 4 no plan in the time limit, 5 plan failed the independent check."""
    from .errors import InfeasibleError, NoPlanError, PlanCheckError
    status = plan.status
    if status == "infeasible":
        raise InfeasibleError(f"no plan meets every hard constraint ({plan.summary.get('policy')})",
                              plan.summary.get("conflicts"))
    if status == "no_plan":
        raise NoPlanError(f"the time limit passed before any plan was found ({plan.summary.get('policy')})")
    if plan.violations:
        raise PlanCheckError(plan.violations)
    if status not in ("optimal", "time_limit"):
        from .errors import CommissionoptError
        raise CommissionoptError(f"the solver ended with status {status}: {plan.summary.get('solver_message')}")


SOLVER_OPTIONS = [
    click.option("--time-limit", type=float, default=None, help="Seconds per solve (default: the model file's, else 300)."),
    click.option("--gap", type=float, default=None, help="Relative MIP gap to stop at (default: the model file's, else 0.001)."),
    click.option("--threads", type=int, default=None, help="HiGHS threads (default 1: deterministic)."),
]


def solver_options(f):
    for option in reversed(SOLVER_OPTIONS):
        f = option(f)
    return f


@main.command()
@click.argument("instance", type=INSTANCE)
@click.option("--model", "model", default="redesign", show_default=True,
              help="A model file (models/*.yaml) or a shipped model's name.")
@click.option("--cut", default=None, help="Budget cut: 0.2, or by year 1:0.05,2:0.1,4:0.25 (default: the scenario's, else 0).")
@SCENARIO
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write every result table here (atomically).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx"]), default="table", show_default=True)
@solver_options
@FORCE
def solve(instance, model, cut, scenarios, out, fmt, time_limit, gap, threads, force):
    """Solve one instance under one model file at one budget cut."""
    import json

    from .reports.output import plan_json, write_csv_folder
    from .reports.table import summary_table
    from .runs.engine import Engine
    if fmt == "xlsx" and out is None:
        raise click.UsageError("--format xlsx writes a workbook: give --out DIR")
    _free(force, out)
    inst, settings = _load(instance, scenarios)
    cut = _cut(cut, settings, "0")
    click.echo(f"solving {inst.name} with {model} ...", err=True)
    plan = Engine(inst, overrides=_solver_overrides(time_limit, gap, threads)).run(model, cut)
    if settings:
        plan.inputs["scenarios"] = [str(p) for p in settings.get("files", [])]
    if out is not None:  # summary.json even without a plan: the status and any conflicts
        write_csv_folder(plan, out, force, workbook=fmt == "xlsx")
        click.echo(f"wrote {out}", err=True)
    if fmt == "json":
        click.echo(json.dumps(plan_json(plan), indent=2))
    elif fmt == "csv":
        from .reports.output import summary_frame
        click.echo(summary_frame(plan).to_csv(index=False), nl=False)
    elif fmt == "table":
        click.echo(f"{inst.name} / {plan.summary.get('policy')} / cut {_cut_text(plan.summary['cut'])}"
                   + (f" / scenario {settings['name']}" if settings else ""))
        if plan.tables:
            click.echo(summary_table(plan))
    _plan_exit(plan)


@main.command()
@click.argument("instance", type=INSTANCE, required=False)
@click.option("--cut", default=None, help=f"Budget cut: 0.25, or by year 1:0.05,2:0.1,4:0.25 (default: the scenario's, else {DEFAULT_CUT}).")
@SCENARIO
@click.option("--models", default="status_quo,salami,redesign", show_default=True,
              help="Comma-separated model files or shipped names.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path), help="Also write a workbook with every table.")
@click.option("--html", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a self-contained HTML report with charts (adds a small sweep of cuts).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write each policy's tables under DIR/POLICY/.")
@solver_options
@FORCE
def compare(instance, cut, scenarios, models, fmt, xlsx, html, out, time_limit, gap, threads, force):
    """Compare policies on one accounting (default: shire_county, 25% over four years)."""
    import json

    from .reports.output import jsonable, plan_json, policy_sheets, write_plan_folders, write_workbook
    from .reports.table import comparison_table
    from .runs.compare import compare as run_compare
    from .runs.engine import Engine
    _free(force, out, xlsx, html)
    inst, settings = _load(_instance_path(instance), scenarios)
    cut = _cut(cut, settings, DEFAULT_CUT)
    names = [m.strip() for m in models.split(",") if m.strip()]
    click.echo(f"building the model of {inst.name} ...", err=True)
    engine = Engine(inst, overrides=_solver_overrides(time_limit, gap, threads))
    total = len(names) + (1 if "salami" in names else 0)
    with click.progressbar(length=total, label="solving policies", file=sys.stderr) as bar:
        result = run_compare(inst, cut, names, engine=engine, progress=lambda _: bar.update(1))
    table = result.table(inst.levels)
    if fmt == "json":
        doc = {"instance": inst.name, "source": str(inst.source), "cut": cut, "models": names,
               "scenario": settings.get("name"), "scenario_changes": list(inst.changes),
               "policies": {k: plan_json(p)["summary"] for k, p in result.plans.items()},
               "inputs": next(iter(result.plans.values())).inputs}
        click.echo(json.dumps(jsonable(doc), indent=2))
    else:
        click.echo(f"{inst.name}: cut {cut}")
        click.echo(comparison_table(table))
    if out is not None:
        write_plan_folders(result.plans, out, force)
        click.echo(f"wrote {out}", err=True)
    if xlsx is not None:
        sheets = {"comparison": table.reset_index(names="measure")}
        if {"salami", "redesign"} <= set(result.plans) and all(
                result.plans[k].tables for k in ("salami", "redesign")):
            from .results.changes import service_changes
            sheets["service_changes"] = service_changes(inst, result.plans["salami"], result.plans["redesign"])
        sheets.update(policy_sheets(result.plans, taken=sheets))
        write_workbook(sheets, xlsx, force)
        click.echo(f"wrote {xlsx}", err=True)
    if html is not None:
        from .reports.html import build_report, small_sweep, write_report
        click.echo("sweeping cuts for the report ...", err=True)
        write_report(html, build_report(inst, result, small_sweep(engine)), force)
        click.echo(f"wrote {html}", err=True)
    for plan in result.plans.values():
        _plan_exit(plan)


PARALLEL = [
    click.option("--workers", type=click.IntRange(0), default=None,
                 help="Worker processes of the local Dask cluster (default: one per core; 0 or 1: serial)."),
    click.option("--scheduler", default=None, help="Address of an existing Dask scheduler to use instead."),
]


def parallel_options(f):
    for option in reversed(PARALLEL):
        f = option(f)
    return f


def _bar(total: int, label: str):
    return click.progressbar(length=total, label=label, file=sys.stderr)


@main.command()
@click.argument("instance", type=INSTANCE)
@click.option("--cuts", default="0:0.5:0.05", show_default=True, help="start:stop:step, or a comma list of shares.")
@click.option("--models", default="salami,redesign", show_default=True, help="Comma-separated model files or names.")
@SCENARIO
@click.option("--gap", type=float, default=None, help="Relative MIP gap for every point (default: each model's).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write sweep.csv and sweep.png here.")
@parallel_options
@FORCE
def sweep(instance, cuts, models, scenarios, gap, out, workers, scheduler, force):
    """Outcome, spend and overspend of each policy at each cut level, solved in parallel."""
    from .reports.output import write_files
    from .runs.sweep import parse_cuts, sweep as run_sweep
    _free(force, out)
    inst, settings = _load(instance, scenarios)
    if settings.get("budget_cut") is not None:
        click.echo(f"note: the sweep's --cuts replace the scenario's budget_cut {settings['budget_cut']}", err=True)
    points = parse_cuts(cuts)
    names = [m.strip() for m in models.split(",") if m.strip()]
    with _bar(len(points) * len(names), "sweeping") as bar:
        table = run_sweep(inst, points, names, workers=workers, scheduler=scheduler, mip_rel_gap=gap,
                          progress=lambda *a: bar.update(1))
    click.echo(table.to_string(index=False, float_format=_number))
    if out is not None:
        from .reports.charts import outcome_vs_cut
        from .reports.html import with_retained
        from .runs.engine import Engine
        table = with_retained(table, {"status_quo": Engine(inst).run("status_quo")})
        write_files({"sweep.csv": table, "sweep.png": outcome_vs_cut(table)}, out, force)
        click.echo(f"wrote {out}", err=True)


@main.command()
@click.argument("instance", type=INSTANCE)
@click.argument("questions_dir", type=click.Path(exists=True, path_type=Path))
@click.option("--cut", default=None, help="Budget cut for every question (default 0; a question's own budget_cut overrides).")
@click.option("--model", default="redesign", show_default=True, help="The model each question is answered under.")
@click.option("--gap", type=float, default=None, help="Relative MIP gap of every solve (default: the model's).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write ranked.csv, plans/*.csv and questions.xlsx.")
@parallel_options
@FORCE
def questions(instance, questions_dir, cut, model, gap, out, workers, scheduler, force):
    """Answer a bank of commissioning questions (scenario files with a `question:`) and rank them."""
    from .data import load_instance
    from .model.index import parse_cut
    from .reports.output import answer_files, write_files
    from .runs.questions import answer_questions, question_files
    _free(force, out)
    inst = load_instance(instance)
    files = question_files(questions_dir)
    with _bar(len(files) + 1, "answering questions") as bar:
        answers = answer_questions(inst, files, cut=parse_cut(cut) if cut else None, model=model, workers=workers,
                                   scheduler=scheduler, progress=lambda *a: bar.update(1), mip_rel_gap=gap)
    shown = [c for c in ("rank", "question", "feasible", "verdict", "outcome_change", "spend_change", "payback_year")
             if c in answers.table.columns]
    click.echo(answers.table[shown].to_string(index=False, float_format=_number, max_colwidth=60))
    if out is not None:
        write_files(answer_files(answers.table, answers.plans), out, force)
        click.echo(f"wrote {out}", err=True)


@main.command()
@click.argument("instance", type=INSTANCE, required=False)
@click.option("--cut", default=None, help=f"Budget cut (default: the scenario's, else {DEFAULT_CUT}).")
@SCENARIO
@click.option("--levers", default=None, help="Comma-separated levers to attribute (default: all seven).")
@click.option("--gap", type=float, default=0.01, show_default=True, help="Relative MIP gap of each subset's solve.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Write attribution.csv, subsets.csv, service_changes.csv, shadow_prices.csv.")
@parallel_options
@FORCE
def explain(instance, cut, scenarios, levers, gap, out, workers, scheduler, force):
    """Where the redesign's advantage over salami comes from: Shapley values over the levers,
    and the shadow prices of money, staff hours and building hours in the redesign."""
    from .policies.spec import LEVERS
    from .reports.output import write_files
    from .runs.attribution import attribute
    from .runs.engine import Engine
    _free(force, out)
    inst, settings = _load(_instance_path(instance), scenarios)
    cut = _cut(cut, settings, DEFAULT_CUT)
    chosen = tuple(x.strip() for x in levers.split(",")) if levers else LEVERS
    with _bar(2 ** len(chosen), "solving lever subsets") as bar:
        result = attribute(inst, cut, levers=chosen, workers=workers, scheduler=scheduler, mip_rel_gap=gap,
                           progress=lambda *a: bar.update(1))
    top_name = "redesign" if set(chosen) == set(LEVERS) else "salami + " + " + ".join(chosen)
    click.echo(f"{inst.name}: cut {cut}; outcome gain salami {result.v_empty:,.1f} -> {top_name} {result.v_all:,.1f} "
               f"(largest MIP gap {result.largest_gap:.2%})")
    click.echo(result.table.to_string(index=False, float_format=_number))
    from .results.changes import service_changes
    engine = Engine(inst, overrides={"mip_rel_gap": gap})  # the same gap as the attribution's solves
    plan, salami = engine.run("redesign", cut), engine.run("salami", cut)
    changes = service_changes(inst, salami, plan) if plan.tables and salami.tables else None
    if changes is not None:
        click.echo(f"\nWhat the redesign changed against salami, by service, in year {changes['year'].iloc[0]}")
        click.echo(changes[["service", "level", "units_baseline", "units_plan", "reason"]].to_string(
            index=False, float_format=_number, max_colwidth=90))
    prices = plan.tables.get("shadow_prices")
    if prices is not None and len(prices):
        top = prices.reindex(prices["value"].abs().sort_values(ascending=False).index).head(15)
        click.echo("\nShadow prices in the redesign (outcome value of one more unit, largest first)")
        click.echo(top.to_string(index=False, float_format=lambda v: f"{v:,.6g}"))
    if out is not None:
        files = {"attribution.csv": result.table, "subsets.csv": result.values}
        if changes is not None:
            files["service_changes.csv"] = changes
        if prices is not None:
            files["shadow_prices.csv"] = prices
        write_files(files, out, force)
        click.echo(f"wrote {out}", err=True)
    _plan_exit(plan)  # the redesign whose changes and prices were shown: exit 3/4/5 as solve does


@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--services", type=click.IntRange(1), required=True, help="Services per area.")
@click.option("--years", type=click.IntRange(1, 30), default=10, show_default=True, help="Horizon in years.")
@click.option("--areas", type=click.IntRange(1), default=1, show_default=True, help="Areas (copies with their own names).")
@click.option("--mechanisms", type=click.IntRange(1), default=5, show_default=True, help="Options per service.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same instance.")
@click.option("--force", is_flag=True, help="Replace the instance files in OUT.")
def generate(out, services, years, areas, mechanisms, seed, force):
    """Write a synthetic instance shaped like shire_county, for scale tests and benchmarks."""
    from .data.generate import generate_instance
    _refuse_overwrite(out / "instance.yaml", force)
    path = generate_instance(out, services=services, years=years, areas=areas, seed=seed, mechanisms=mechanisms)
    click.echo(f"wrote {path}")


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
