"""Command line: parse, call the library, print, exit. No logic of its own.

One convention across verbs: an instance is a folder, a workbook or a shipped name (`tiny`);
`--model` names a model (file or shipped name), repeatable or comma-separated; every verb
that solves takes `--scenario`, `--time-limit`, `--gap` and `--threads`, and those that run
many independent solves `--workers` and `--scheduler`; results print as `--format
table|csv|json`, and are written with `--out DIR`, `--xlsx FILE`, `--html FILE`, `--tidy FILE`,
none of them replaced without `--force`. `--debug` works before or after the verb.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click
import pandas as pd

from . import __version__
from .errors import CommissionoptError, InputError

DEBUG = "commissionopt.debug"


def _debug(ctx: click.Context, _param, value: bool) -> None:
    if value:
        ctx.meta[DEBUG] = True


def debug_option() -> click.Option:
    return click.Option(["--debug"], is_flag=True, expose_value=False, is_eager=True, callback=_debug,
                        help="Show the full traceback of an error.")


class Verb(click.Command):
    """A verb: takes --debug after its name as well as before it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params.append(debug_option())


class Commands(click.Group):
    """Turns a library error into one line per problem on stderr and its exit code."""
    command_class = Verb

    def invoke(self, ctx: click.Context):
        try:
            with _stop_on_sigterm():
                return super().invoke(ctx)
        except BrokenPipeError:  # output piped into e.g. `head`, which stopped reading
            sys.exit(1)
        except (CommissionoptError, OSError) as e:
            if ctx.meta.get(DEBUG):
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
@click.version_option(__version__, "--version", prog_name="commissionopt", message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, callback=_debug, expose_value=False, is_eager=True,
              help="Show the full traceback of an error.")
def main() -> None:
    """commissionopt: salami slicing against whole-system redesign, on one accounting."""


# ----------------------------------------------------------------------------- arguments
class InstanceArg(click.ParamType):
    """An instance folder, an .xlsx workbook, or the name of a shipped instance."""
    name = "instance"

    def convert(self, value, param, ctx):
        from .shipped import instance_names, instance_path
        if isinstance(value, Path):
            return value
        path = Path(value)
        if path.exists():
            return path
        shipped = instance_path(str(value))
        if shipped is not None:
            return shipped
        self.fail(f"{value!r} is neither an instance folder or .xlsx workbook nor a shipped instance "
                  f"({', '.join(instance_names()) or 'none found'})", param, ctx)


INSTANCE = InstanceArg()
DEFAULT_INSTANCE = "shire_county"
DEFAULT_CUT = "1:0.0625,2:0.125,3:0.1875,4:0.25"  # 25% over four years
FORMATS = click.Choice(["table", "csv", "json"])


def _instance(given: Path | None) -> Path:
    """The instance named, or the shipped default."""
    return given if given is not None else INSTANCE.convert(DEFAULT_INSTANCE, None, None)


def _free(force: bool, *paths) -> None:
    """Refuse, before any work, to replace an output that exists (unless --force)."""
    from .atomic import check_free
    for path in paths:
        if path is not None:
            check_free(path, force)


def _tidy_path(tidy: Path | None) -> None:
    if tidy is not None:
        from .reports.tidy import check_tidy_path
        check_tidy_path(tidy)


def _load(instance: Path, scenarios) -> tuple:
    """The instance with each --scenario applied in order, and the scenarios' settings."""
    from .data import load_instance
    inst = load_instance(instance)
    if not scenarios:
        return inst, {}
    from .data.scenario import apply_scenarios
    return apply_scenarios(inst, list(scenarios), allow_outside=click.get_current_context().meta.get("allow_outside", False))


def _cut(given: str | None, settings: dict, default):
    """--cut when given, else the scenarios' budget_cut, else the default."""
    from .runs.arguments import cut
    if given is not None:
        return cut(given, "--cut")
    if settings.get("budget_cut") is not None:
        return settings["budget_cut"]
    return cut(default, "--cut")


def _models(given: tuple, default: str) -> list[str]:
    """--model values, each possibly comma-separated, in order."""
    return [m.strip() for v in (given or (default,)) for m in str(v).split(",") if m.strip()]


def _allow_outside(ctx: click.Context, param, value: bool) -> bool:
    ctx.meta["allow_outside"] = value
    return value


ALLOW_OUTSIDE = click.option("--allow-outside", is_flag=True, expose_value=False, callback=_allow_outside,
                             help="Let a scenario's extends: name files outside its own folder tree and the instance's.")



def _one_model(given: tuple, default: str, verb: str) -> str:
    names = _models(given, default)
    if len(names) != 1:
        raise click.UsageError(f"{verb} runs one model: give one --model (compare runs several)")
    return names[0]


def _solver_overrides(time_limit, gap, threads) -> dict:
    """The solver flags given: they beat the model files' own `solver:` settings."""
    return {k: v for k, v in (("time_limit", time_limit), ("mip_rel_gap", gap), ("threads", threads)) if v is not None}


def _workers(workers: int | None) -> int:
    """--workers, else one per core (the library's own default is 0: in-process)."""
    return workers if workers is not None else (os.cpu_count() or 1)


def _plan_exit(plan) -> None:
    """Exit codes: 3 infeasible, 4 no plan in the time limit, 5 plan failed the independent check."""
    from .errors import InfeasibleError, NoPlanError, PlanCheckError
    from .solve.status import Status
    status = plan.status
    if status == "infeasible":
        raise InfeasibleError(f"no plan meets every hard constraint ({plan.summary.get('policy')})",
                              plan.summary.get("conflicts"))
    if status == "no_plan":
        raise NoPlanError(f"the time limit passed before any plan was found ({plan.summary.get('policy')})")
    if plan.violations:
        raise PlanCheckError(plan.violations)
    if status not in Status.HAS_PLAN:
        raise CommissionoptError(f"the solver ended with status {status}: {plan.summary.get('solver_message')}")


# ----------------------------------------------------------------------------- options
def _options(*decorators):
    def apply(f):
        for d in reversed(decorators):
            f = d(f)
        return f
    return apply


SCENARIO = _options(
    click.option("--scenario", "scenarios", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="A what-if scenario file (docs/scenarios.md); may repeat, applied in order."),
    ALLOW_OUTSIDE,
)


def model_option(default: str, help: str):
    return click.option("--model", "--models", "models", multiple=True, show_default=default,
                        help=f"{help} A model file or a shipped model's name; repeat it or separate with commas.")


SOLVER = _options(
    click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                 help="Seconds per solve (default: the model file's, else 300)."),
    click.option("--gap", type=click.FloatRange(0, 1), default=None,
                 help="Relative MIP gap to stop at (default: the model file's, else 0.001)."),
    click.option("--threads", type=click.IntRange(1), default=None, help="HiGHS threads (default 1: deterministic)."),
)
PARALLEL = _options(
    click.option("--workers", type=click.IntRange(0), default=None,
                 help="Worker processes of the local Dask cluster (default: one per core; 0 or 1: in this process)."),
    click.option("--scheduler", default=None, help="Address of an existing Dask scheduler to use instead."),
)
FORMAT = click.option("--format", "fmt", type=FORMATS, default="table", show_default=True,
                      help="How the results print.")
FORCE = click.option("--force", is_flag=True, help="Replace outputs (--out, --xlsx, --html, --tidy) that exist.")


def out_option(what: str):
    return click.option("--out", type=click.Path(file_okay=False, path_type=Path), help=what)


XLSX = click.option("--xlsx", type=click.Path(dir_okay=False, path_type=Path),
                    help="Write a workbook: Summary, Inputs, a sheet per result table.")
HTML = click.option("--html", type=click.Path(dir_okay=False, path_type=Path),
                    help="Write a self-contained HTML report with charts.")
TIDY = click.option("--tidy", type=click.Path(dir_okay=False, path_type=Path),
                    help="Write every figure as one long table (.csv, or .parquet with pyarrow).")


def _bar(total: int, label: str):
    return click.progressbar(length=total, label=label, file=sys.stderr)


def _print_frame(df: pd.DataFrame, fmt: str) -> None:
    """A table of results as --format asks: aligned text, CSV or JSON records."""
    if fmt == "csv":
        click.echo(df.to_csv(index=False), nl=False)
    elif fmt == "json":
        import json

        from .reports.output import SCHEMA_VERSION, jsonable
        records = df.astype(object).where(df.notna(), None).to_dict(orient="records")
        click.echo(json.dumps({"schema_version": SCHEMA_VERSION, "rows": jsonable(records)}, indent=2))
    else:
        click.echo(df.to_string(index=False, float_format=_number, max_colwidth=60))


# ----------------------------------------------------------------------------- instance verbs
@main.command()
@click.argument("instance", type=INSTANCE)
@SCENARIO
def validate(instance: Path, scenarios) -> None:
    """Check an instance (folder, .xlsx or shipped name), with any scenarios applied, and summarise it."""
    from .data import summary
    from .reports.labels import outcome_unit, year_label
    inst, settings = _load(instance, scenarios)
    for change in inst.changes:
        click.echo(f"scenario change: {change}")
    click.echo(f"Instance {inst.name}: base year {inst.meta['base_year']}, prices {inst.meta['price_year']}, "
               f"{inst.horizon} years ({year_label(inst.meta, 1)} to {year_label(inst.meta, inst.horizon)}), "
               f"discount rate {inst.discount_rate:.1%}, outcomes in {outcome_unit(inst)}")
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
@FORCE
def template(out: Path, force: bool) -> None:
    """Write a blank instance workbook (.xlsx) to fill in."""
    from .data import write_template
    if out.suffix.lower() != ".xlsx":
        raise click.BadParameter("the template is a workbook: give a name ending in .xlsx", param_hint="OUT")
    _free(force, out)
    write_template(out)
    click.echo(f"wrote {out}")


@main.command()
@click.argument("src", type=INSTANCE)
@click.argument("dst", type=click.Path(path_type=Path))
@FORCE
def convert(src: Path, dst: Path, force: bool) -> None:
    """Convert an instance between a folder of CSV files and an .xlsx workbook."""
    from .data import load_instance, write_instance
    _free(force, dst)
    inst = load_instance(src, validate=False)  # meaning is `validate`'s job; the data must still read
    write_instance(inst, dst)
    click.echo(f"wrote {dst}")


# ----------------------------------------------------------------------------- solving verbs
@main.command()
@click.argument("instance", type=INSTANCE)
@model_option("redesign", "The model to solve.")
@click.option("--cut", default=None, help="Budget cut: 0.2, or by year 1:0.05,2:0.1,4:0.25 (default: the scenario's, else 0).")
@SCENARIO
@FORMAT
@out_option("Write the run here: summary.json, every result table as CSV, the instance as run.")
@XLSX
@TIDY
@SOLVER
@FORCE
def solve(instance, models, cut, scenarios, fmt, out, xlsx, tidy, time_limit, gap, threads, force):
    """Solve one instance under one model at one budget cut."""
    import json

    from .reports.labels import NO_CUT, cut_text, outcome_unit
    from .reports.output import plan_document, summary_frame, write_files
    from .reports.report import report
    from .reports.saved import run_files
    from .reports.table import summary_table
    from .runs.engine import Engine
    model = _one_model(models, "redesign", "solve")
    _free(force, out, xlsx, tidy)
    _tidy_path(tidy)
    inst, settings = _load(instance, scenarios)
    cut = _cut(cut, settings, "0")
    click.echo(f"solving {inst.name} with {model} ...", err=True)
    plan = Engine(inst, overrides=_solver_overrides(time_limit, gap, threads)).run(model, cut)
    if settings:
        plan.inputs["scenarios"] = [str(p) for p in settings.get("files", [])]
    policy = plan.summary.get("policy", model)
    if out is not None:  # summary.json even without a plan: the status and any conflicts
        write_files(run_files("solve", inst, {policy: plan}, scenario=settings.get("name")), out, force)
        click.echo(f"wrote {out}", err=True)
    if plan.tables:
        written = report(inst, plan, xlsx=xlsx, tidy=tidy, scenario=settings.get("name") or "", force=force)
        for path in written.values():
            click.echo(f"wrote {path}", err=True)
    elif xlsx is not None or tidy is not None:
        click.echo(f"no plan ({plan.status}): no workbook or tidy table written", err=True)
    outcome = outcome_unit(inst)
    if fmt == "json":
        click.echo(json.dumps(plan_document(plan), indent=2))
    elif fmt == "csv":
        click.echo(summary_frame(plan, outcome).to_csv(index=False), nl=False)
    else:
        ran = cut_text(plan.summary["cut"])
        click.echo(f"{inst.name} / {policy} / {ran if ran == NO_CUT else 'cut ' + ran}"
                   + (f" / scenario {settings['name']}" if settings else ""))
        if plan.tables:
            click.echo(summary_table(plan, inst.meta, outcome))
    _plan_exit(plan)


@main.command()
@click.argument("instance", type=INSTANCE, required=False)
@model_option("status_quo,salami,redesign", "The policies to compare (redesign_same_money is added beside salami).")
@click.option("--cut", default=None, help=f"Budget cut: 0.25, or by year 1:0.05,2:0.1,4:0.25 (default: the scenario's, else {DEFAULT_CUT}).")
@SCENARIO
@FORMAT
@out_option("Write the run here (run.json, the instance as run, a folder a policy): `report` and `diff` read it.")
@XLSX
@HTML
@TIDY
@SOLVER
@PARALLEL
@FORCE
def compare(instance, models, cut, scenarios, fmt, out, xlsx, html, tidy, time_limit, gap, threads, workers,
            scheduler, force):
    """Compare policies on one accounting (default: shire_county, 25% over four years).

    The policies are solved in this process on one compiled model; --workers N (N > 1) or
    --scheduler runs the HTML report's sweep of cuts on Dask (default: in this process)."""
    import json

    from .reports.headline import headline
    from .reports.labels import cut_text, outcome_unit
    from .reports.output import comparison_document, write_files
    from .reports.report import report
    from .reports.saved import run_files
    from .reports.table import comparison_frame
    from .runs.compare import compare as run_compare
    from .runs.engine import Engine
    _free(force, out, xlsx, html, tidy)
    _tidy_path(tidy)
    inst, settings = _load(_instance(instance), scenarios)
    cut = _cut(cut, settings, DEFAULT_CUT)
    names = _models(models, "status_quo,salami,redesign")
    overrides = _solver_overrides(time_limit, gap, threads)
    click.echo(f"building the model of {inst.name} ...", err=True)
    engine = Engine(inst, overrides=overrides)
    total = len(names) + (1 if "salami" in names else 0)
    with _bar(total, "solving policies") as bar:
        result = run_compare(inst, cut, names, engine=engine, progress=lambda _: bar.update(1))
    if settings:
        for plan in result.plans.values():
            plan.inputs["scenarios"] = [str(p) for p in settings.get("files", [])]
    key_message = headline(result)
    outcome = outcome_unit(inst)
    if fmt == "json":
        click.echo(json.dumps(comparison_document(result, inst, key_message, settings.get("name")), indent=2))
    elif fmt == "csv":
        click.echo(result.table().reset_index().to_csv(index=False), nl=False)
    else:
        policy_cut = next((p.summary["cut"] for p in result.plans.values()
                           if p.summary.get("policy") != "status_quo" and p.summary.get("cut")), cut)
        click.echo(f"{inst.name}: cut {cut_text(policy_cut)} (the status quo: no cut)"
                   + (f" / scenario {settings['name']}" if settings else ""))
        if key_message:
            click.echo(click.wrap_text(key_message, 100) + "\n")
        click.echo(comparison_frame(result, inst.meta, outcome).to_string())
    sweep = None
    if html is not None:
        click.echo("sweeping cuts for the report ...", err=True)
        sweep = _report_sweep(engine, result, workers, scheduler, overrides)
    if out is not None:
        write_files(run_files("compare", inst, result.plans, key_message, sweep, settings.get("name")), out, force)
        click.echo(f"wrote {out}", err=True)
    written = report(inst, result, html=html, xlsx=xlsx, tidy=tidy, sweep=sweep,
                     scenario=settings.get("name") or "", force=force)
    for path in written.values():
        click.echo(f"wrote {path}", err=True)
    for plan in result.plans.values():
        _plan_exit(plan)


def _report_sweep(engine, result, workers, scheduler, overrides):
    """The HTML report's sweep of cuts: warm re-solves on the model compare built, or with
    --workers N (N > 1) or --scheduler the same points on Dask."""
    from .reports.html import DEFAULT_CUTS, SWEEP_GAP, small_sweep, with_retained
    if scheduler is None and (workers is None or workers <= 1):
        return small_sweep(engine)
    from .runs.sweep import sweep as run_sweep
    gap = {} if "mip_rel_gap" in overrides else {"mip_rel_gap": SWEEP_GAP}
    table = run_sweep(engine.inst, list(DEFAULT_CUTS), ("salami", "redesign"), workers=workers, scheduler=scheduler,
                      same_money=True, overrides={**overrides, **gap})
    return with_retained(table, result.plans)


@main.command()
@click.argument("instance", type=INSTANCE)
@model_option("salami,redesign", "The policies to sweep.")
@click.option("--cuts", default="0:0.5:0.05", show_default=True, help="start:stop:step, or a comma list of shares.")
@click.option("--same-money/--no-same-money", default=True, show_default=True,
              help="With salami and redesign, also sweep redesign_same_money (the redesign on salami's money).")
@SCENARIO
@FORMAT
@out_option("Write sweep.csv and sweep.png here.")
@TIDY
@SOLVER
@PARALLEL
@FORCE
def sweep(instance, models, cuts, same_money, scenarios, fmt, out, tidy, time_limit, gap, threads, workers, scheduler,
          force):
    """Outcome, spend and overspend of each policy at each cut level, solved in parallel."""
    from .reports.labels import outcome_unit
    from .reports.output import write_files
    from .runs.sweep import parse_cuts, sweep as run_sweep
    _free(force, out, tidy)
    _tidy_path(tidy)
    inst, settings = _load(instance, scenarios)
    if settings.get("budget_cut") is not None:
        click.echo(f"note: the sweep's --cuts replace the scenario's budget_cut {settings['budget_cut']}", err=True)
    points = parse_cuts(cuts)
    names = _models(models, "salami,redesign")
    pairs = same_money and {"salami", "redesign"} <= set(names)
    with _bar(len(points) * (len(names) + pairs), "sweeping") as bar:
        table = run_sweep(inst, points, names, workers=_workers(workers), scheduler=scheduler, same_money=pairs,
                          overrides=_solver_overrides(time_limit, gap, threads), progress=lambda *a: bar.update(1))
    if out is not None or tidy is not None or fmt != "table":
        from .reports.html import with_retained
        from .runs.engine import Engine
        table = with_retained(table, {"status_quo": Engine(inst).run("status_quo")})
    _print_frame(table, fmt)
    if out is not None:
        from .reports.charts import outcome_vs_cut
        write_files({"sweep.csv": table, "sweep.png": outcome_vs_cut(table)}, out, force)
        click.echo(f"wrote {out}", err=True)
    if tidy is not None:
        from .reports.tidy import tidy_sweep, write_tidy
        write_tidy(tidy_sweep(table, settings.get("name") or "", outcome_unit(inst)), tidy, force)
        click.echo(f"wrote {tidy}", err=True)


@main.command()
@click.argument("instance", type=INSTANCE)
@click.argument("questions_dir", type=click.Path(exists=True, path_type=Path))
@model_option("redesign", "The model each question is answered under.")
@click.option("--cut", default=None, help="Budget cut for every question (default: the scenario's, else 0; "
                                          "a question's own budget_cut overrides).")
@SCENARIO
@FORMAT
@click.option("--draws", type=click.IntRange(1), default=None,
              help="Also answer each question in this many draws of the instance's ranges.csv, for the share "
                   "of draws in which it has a positive return.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True, help="The draws' seed.")
@click.option("--rank-by", type=click.Choice(["return", "probability"]), default=None,
              help="Rank by the central answer, or by the share of draws with a positive return first "
                   "(default: probability with --draws, else return).")
@out_option("Write ranked.csv, plans/*.csv and questions.xlsx.")
@SOLVER
@PARALLEL
@FORCE
def questions(instance, questions_dir, models, cut, draws, seed, rank_by, scenarios, fmt, out, time_limit, gap, threads,
              workers, scheduler, force):
    """Answer a bank of commissioning questions (scenario files with a `question:`) and rank them."""
    from .reports.output import answer_files, write_files
    from .runs.questions import answer_questions, question_files
    model = _one_model(models, "redesign", "questions")
    _free(force, out)
    inst, settings = _load(instance, scenarios)
    cut = _cut(cut, settings, "0") if cut is not None or settings.get("budget_cut") is not None else None
    files = question_files(questions_dir)
    with _bar((len(files) + 1) * (1 + (draws or 0)), "answering questions") as bar:
        answers = answer_questions(inst, files, cut=cut, model=model, workers=_workers(workers), scheduler=scheduler,
                                   progress=lambda *a: bar.update(1), draws=draws, seed=seed, rank_by=rank_by,
                                   overrides=_solver_overrides(time_limit, gap, threads),
                                   allow_outside=click.get_current_context().meta.get("allow_outside", False))
    if fmt == "table":
        shown = [c for c in ("rank", "question", "feasible", "verdict", "outcome_change", "spend_change",
                             "payback_year", "p_positive_return") if c in answers.table.columns]
        _print_frame(answers.table[shown], fmt)
    else:
        _print_frame(answers.table, fmt)
    if out is not None:
        write_files(answer_files(answers.table, answers.plans), out, force)
        click.echo(f"wrote {out}", err=True)


@main.command()
@click.argument("instance", type=INSTANCE, required=False)
@click.option("--cut", default=None, help=f"Budget cut (default: the scenario's, else {DEFAULT_CUT}).")
@click.option("--levers", default=None, help="Comma-separated levers to attribute (default: all seven).")
@SCENARIO
@FORMAT
@out_option("Write attribution.csv, subsets.csv, service_changes.csv, shadow_prices.csv "
            "(`report RUN_DIR THIS_DIR` draws the attribution's waterfall).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per solve (default: the redesign model file's, else 300).")
@click.option("--gap", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="Relative MIP gap of each subset's solve.")
@click.option("--threads", type=click.IntRange(1), default=None, help="HiGHS threads (default 1: deterministic).")
@PARALLEL
@FORCE
def explain(instance, cut, levers, scenarios, fmt, out, time_limit, gap, threads, workers, scheduler, force):
    """Where the redesign's advantage over salami comes from: Shapley values over the levers,
    and the shadow prices of money, staff hours and building hours in the redesign."""
    from .policies.spec import LEVERS
    from .reports.labels import cut_text
    from .reports.output import write_files
    from .results.changes import service_changes
    from .runs.attribution import attribute
    from .runs.engine import Engine
    _free(force, out)
    inst, settings = _load(_instance(instance), scenarios)
    cut = _cut(cut, settings, DEFAULT_CUT)
    chosen = tuple(x.strip() for x in levers.split(",")) if levers else LEVERS
    overrides = _solver_overrides(time_limit, gap, threads)
    with _bar(2 ** len(chosen), "solving lever subsets") as bar:
        result = attribute(inst, cut, levers=chosen, workers=_workers(workers), scheduler=scheduler,
                           overrides=overrides, progress=lambda *a: bar.update(1))
    engine = Engine(inst, overrides=overrides)  # the same settings as the attribution's solves
    plan, salami = engine.run("redesign", cut), engine.run("salami", cut)
    changes = service_changes(inst, salami, plan) if plan.tables and salami.tables else None
    prices = plan.tables.get("shadow_prices")
    if fmt != "table":
        _print_frame(result.table, fmt)
    else:
        top_name = "redesign" if set(chosen) == set(LEVERS) else "salami + " + " + ".join(chosen)
        click.echo(f"{inst.name}: cut {cut_text(plan.summary.get('cut') or cut)}; outcome gain salami "
                   f"{result.v_empty:,.1f} -> {top_name} {result.v_all:,.1f} (largest MIP gap {result.largest_gap:.2%})")
        click.echo(result.table.to_string(index=False, float_format=_number))
        if changes is not None:
            from .reports.labels import year_label
            click.echo(f"\nWhat the redesign changed against salami, by service, in "
                       f"{year_label(inst.meta, int(changes['year'].iloc[0]))}")
            click.echo(changes[["service", "level", "units_baseline", "units_plan", "reason"]].to_string(
                index=False, float_format=_number, max_colwidth=90))
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
@click.argument("instance", type=INSTANCE)
@model_option("redesign", "The redesign's model.")
@click.option("--cut", default=None, help=f"Budget cut (default: the scenario's, else {DEFAULT_CUT}).")
@click.option("--draws", type=click.IntRange(1), default=100, show_default=True,
              help="Draws of the figures in ranges.csv (a Latin hypercube).")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Same seed, same draws and the same results, on any number of workers.")
@click.option("--robust", type=click.IntRange(1), default=None,
              help="Also find a robust redesign over K draws of its own, evaluated on the draws beside the central plan.")
@click.option("--risk", type=click.Choice(["mean", "cvar"]), default="mean", show_default=True,
              help="What the robust redesign maximises: the mean outcome gain, or the mean of its worst 10% of draws.")
@click.option("--fan-cuts", default=None,
              help="Cuts at which each draw also solves salami and the redesign, for the report's fan chart "
                   "(start:stop:step or a comma list; default with --html 0:0.5:0.1, else none; 'none' for none).")
@click.option("--tornado/--no-tornado", default=True, show_default=True,
              help="Solve each range at its low and at its high, the rest central.")
@SCENARIO
@FORMAT
@out_option("Write uncertainty.json and a CSV per table here.")
@HTML
@XLSX
@TIDY
@SOLVER
@PARALLEL
@FORCE
def uncertainty(instance, models, cut, draws, seed, robust, risk, fan_cuts, tornado, scenarios, fmt, out, html, xlsx,
                tidy, time_limit, gap, threads, workers, scheduler, force):
    """How likely the redesign is to beat salami across the evidence in ranges.csv: salami, the
    redesign and the committed central plan in each draw; core and borderline choices; a tornado."""
    import json

    from .reports.output import write_files
    from .reports.report import report
    from .reports.uncertainty import document, files, terminal
    from .runs.draws import draw_names, require_ranges
    from .runs.sweep import parse_cuts
    from .runs.uncertainty import uncertainty as run_uncertainty
    model = _one_model(models, "redesign", "uncertainty")
    _free(force, out, html, xlsx, tidy)
    _tidy_path(tidy)
    inst, settings = _load(instance, scenarios)
    require_ranges(inst)
    cut = _cut(cut, settings, DEFAULT_CUT)
    if fan_cuts is None:
        fan_cuts = "0:0.5:0.1" if html is not None else "none"
    fans = [] if fan_cuts.strip().lower() == "none" else parse_cuts(fan_cuts)
    per_draw = 3 + (robust is not None) + 2 * len(fans)
    total = 3 + (4 * len(draw_names(inst)) if tornado else 0) + draws * per_draw + (robust is not None)
    with _bar(total, "solving draws") as bar:
        result = run_uncertainty(inst, cut, draws=draws, seed=seed, model=model, workers=_workers(workers),
                                 scheduler=scheduler, robust=robust, risk=risk, fan_cuts=fans, tornado=tornado,
                                 overrides=_solver_overrides(time_limit, gap, threads),
                                 progress=lambda *a: bar.update(1))
    scenario = settings.get("name")
    if fmt == "json":
        click.echo(json.dumps(document(result, inst, scenario), indent=2))
    elif fmt == "csv":
        click.echo(result.results.to_csv(index=False), nl=False)
    else:
        click.echo(terminal(result, inst))
    if out is not None:
        write_files(files(result, inst, scenario), out, force)
        click.echo(f"wrote {out}", err=True)
    written = report(inst, result.central, html=html, xlsx=xlsx, tidy=tidy, scenario=scenario or "", force=force,
                     uncertainty=result)
    for path in written.values():
        click.echo(f"wrote {path}", err=True)


# ----------------------------------------------------------------------------- saved runs
RUN_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=RUN_DIR)
@HTML
@XLSX
@TIDY
@FORCE
def report(runs, html, xlsx, tidy, force):
    """Rebuild reports from saved runs (solve --out, compare --out), without solving.

    Several runs are reported side by side (e.g. before and after a scenario); an
    `explain --out` folder among them adds its lever attribution to the HTML report."""
    from .reports.report import report as write_reports
    from .reports.saved import combine, load_run
    if html is None and xlsx is None and tidy is None:
        raise click.UsageError("give at least one of --html, --xlsx, --tidy")
    _free(force, html, xlsx, tidy)
    _tidy_path(tidy)
    run = combine([load_run(r) for r in runs])
    written = write_reports(run.instance, run.comparison, html=html, xlsx=xlsx, tidy=tidy, sweep=run.sweep,
                            attribution=run.attribution, scenario=run.doc.get("scenario") or "", force=force)
    for path in written.values():
        click.echo(f"wrote {path}", err=True)


@main.command()
@click.argument("run_a", type=RUN_DIR)
@click.argument("run_b", type=RUN_DIR)
@FORMAT
@click.option("--all", "show_all", is_flag=True, help="Show every summary figure, not only those that changed.")
def diff(run_a, run_b, fmt, show_all):
    """What changed between two saved runs: summary figures, services and mechanisms
    (final year), and scenario changes, policy by policy."""
    import json

    from .reports.output import SCHEMA_VERSION, jsonable
    from .reports.saved import diff_runs, load_run
    parts = diff_runs(load_run(run_a), load_run(run_b))
    if not show_all:
        parts["summary"] = parts["summary"][parts["summary"]["changed"]]
    if fmt == "json":
        doc = {"schema_version": SCHEMA_VERSION, "a": str(run_a), "b": str(run_b),
               **{k: df.astype(object).where(df.notna(), None).to_dict(orient="records") for k, df in parts.items()}}
        click.echo(json.dumps(jsonable(doc), indent=2))
        return
    if fmt == "csv":
        click.echo(pd.concat([df.assign(part=k) for k, df in parts.items()], ignore_index=True).to_csv(index=False),
                   nl=False)
        return
    click.echo(f"a: {run_a}\nb: {run_b}")
    titles = {"summary": "Summary figures" + ("" if show_all else " that changed"),
              "services": "Services whose final-year units changed", "mechanisms": "Options that changed",
              "inputs": "Scenario changes in one run only"}
    for k, df in parts.items():
        click.echo(f"\n{titles[k]}")
        click.echo("  (none)" if df.empty else df.to_string(index=False, float_format=_number, max_colwidth=80))


# ----------------------------------------------------------------------------- scale
@main.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--services", type=click.IntRange(1), required=True, help="Services per area.")
@click.option("--years", type=click.IntRange(1, 30), default=10, show_default=True, help="Horizon in years.")
@click.option("--areas", type=click.IntRange(1), default=1, show_default=True, help="Areas (copies with their own names).")
@click.option("--mechanisms", type=click.IntRange(1), default=5, show_default=True, help="Options per service.")
@click.option("--seed", type=int, default=0, show_default=True, help="Same seed, same instance.")
@FORCE
def generate(out, services, years, areas, mechanisms, seed, force):
    """Write a synthetic instance shaped like shire_county, for scale tests and benchmarks."""
    from .data.generate import generate_instance
    _free(force, out / "instance.yaml")
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
