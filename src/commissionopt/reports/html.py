"""The HTML report: one self-contained file (charts embedded, no scripts, nothing fetched).

    engine = Engine(inst)
    comparison = compare(inst, 0.25, engine=engine)
    sweep = small_sweep(engine)                       # outcome retained against cut
    write_report("report.html", build_report(inst, comparison, sweep))

Every text that comes from the data (instance, policy, level, service names) is escaped.
The same inputs give the same bytes: no timestamps, no timings, charts saved without
metadata.
"""
from __future__ import annotations

import base64
import html as _html
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..atomic import atomic_file
from ..solve.status import Status
from . import charts
from .headline import final_year_sentence, headline, money_note, sweep_sentence
from .labels import cut_text as cli_cut
from .labels import cut_words, measure_label, outcome_unit, show, year_label
from .table import fmt

HAS_PLAN = Status.HAS_PLAN  # a plan to show (time_limit and suboptimal ones flagged)
DEFAULT_CUTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
SWEEP_GAP = 0.01  # the report's sweep: a looser MIP gap than the comparison's, to stay quick
SWEEP_COLUMNS = ["policy", "cut", "status", "outcome_gain", "outcome_retained", "outcome_value",
                 "discounted_spend", "overspend", "mip_gap"]


def esc(v) -> str:
    return _html.escape(str(v), quote=True)


# ----------------------------------------------------------------------------- the sweep
def small_sweep(engine, cuts=DEFAULT_CUTS, models=("salami", "redesign"), mip_rel_gap: float | None = SWEEP_GAP,
                verify: bool = True, progress=None, same_money: bool = True) -> pd.DataFrame:
    """Re-solve each model at each cut on one Engine (built once): the outcome-vs-cut data.

    `mip_rel_gap` loosens (never tightens) each model's own gap to keep the sweep fast;
    None keeps the models' own settings. An engine's `overrides` (a command line's --gap)
    still win over both. outcome_retained = outcome_gain / the status
    quo's outcome_gain (no cut). With salami and redesign among the models and `same_money`,
    redesign_same_money (the redesign on the money salami used at that cut) is swept too."""
    from ..runs.compare import same_money as salami_money
    from ..runs.engine import as_spec

    base = engine.baseline()
    base_gain = base.summary.get("outcome_gain") if base.status in HAS_PLAN else None
    rows, salami = [], {}

    def add(name, cut, p):
        s = p.summary
        gain = s.get("outcome_gain")
        rows.append({"policy": name, "cut": float(cut), "status": p.status, "outcome_gain": gain,
                     "outcome_retained": (gain / base_gain if gain is not None and base_gain else None),
                     "outcome_value": s.get("outcome_value"), "discounted_spend": s.get("discounted_spend"),
                     "overspend": s.get("overspend"), "mip_gap": s.get("mip_gap")})
        if progress:
            progress(name, cut)

    specs = {}
    for model in models:
        spec = as_spec(model)
        if mip_rel_gap is not None:
            gap = max(float(mip_rel_gap), float(spec.solver.get("mip_rel_gap", 0.0)))
            spec = replace(spec, solver={**spec.solver, "mip_rel_gap": gap})
        specs[spec.name] = spec
        for cut in cuts:
            p = engine.run(spec, float(cut), verify=verify)
            if spec.name == "salami" and p.status in HAS_PLAN and p.tables:
                salami[float(cut)] = p
            add(spec.name, cut, p)
    if same_money and "redesign" in specs and salami:
        for cut in cuts:
            if float(cut) in salami:
                p = engine.run(specs["redesign"], float(cut), verify=verify,
                               extra_money=salami_money(salami[float(cut)]), name="redesign_same_money")
                add("redesign_same_money", cut, p)
    return pd.DataFrame(rows, columns=SWEEP_COLUMNS)


def with_retained(sweep: pd.DataFrame, plans: dict) -> pd.DataFrame:
    """Add outcome_retained to a sweep that lacks it (e.g. runs.sweep's table), from the status
    quo's outcome gain: a status_quo row of the sweep, else the comparison's status quo plan."""
    if "outcome_retained" in sweep.columns and sweep["outcome_retained"].notna().any():
        return sweep
    base = None
    sq = sweep[(sweep["policy"] == "status_quo") & sweep["status"].isin(HAS_PLAN)]
    if len(sq):
        base = float(sq["outcome_gain"].iloc[0])
    elif "status_quo" in plans and plans["status_quo"].status in HAS_PLAN:
        base = plans["status_quo"].summary.get("outcome_gain")
    if not base:
        return sweep
    out = sweep.copy()
    out["outcome_retained"] = pd.to_numeric(out["outcome_gain"], errors="coerce") / base
    return out


# ----------------------------------------------------------------------------- decomposition
def pick_pair(plans: dict) -> tuple[str, str] | None:
    """(salami, redesign) to compare: the redesign on salami's money when there is one."""
    if "salami" not in plans or plans["salami"].status not in HAS_PLAN:
        return None
    for name in ("redesign_same_money", "redesign"):
        if name in plans and plans[name].status in HAS_PLAN:
            return "salami", name
    return None


def spend_parts(plan, services: pd.DataFrame, levels: list[str]) -> pd.Series:
    """Discounted spend split into direct spend by need level and the overhead kinds."""
    sp = plan.tables["spend"].set_index("year")
    df = sp["discount_factor"]
    direct = charts.direct_by_level(plan, services)
    parts = {}
    for lv in charts.level_order(levels, direct.columns):
        col = direct[lv] if lv in direct.columns else pd.Series(0.0, index=direct.index)
        parts[f"direct: {lv}"] = float((col * df.reindex(col.index, fill_value=0.0)).sum())
    for kind in ("staff", "buildings", "setup", "pooling"):
        if kind in sp.columns:
            parts[kind] = float((sp[kind] * df).sum())
    return pd.Series(parts)


def outcome_parts(plan) -> pd.Series:
    """The outcome value split as the summary computes it: discounted gain of services,
    minus discounted harm of need in the horizon, minus harm of need left at the horizon."""
    out = plan.tables["outcomes"]
    return pd.Series({"services' gain": float((out["gain"] * out["discount_factor"]).sum()),
                      "harm of need during the horizon": -float((out["harm"] * out["discount_factor"]).sum()),
                      "harm of need left at the horizon": -float(plan.summary.get("terminal_harm") or 0.0)})


def with_residual(parts: pd.Series, total_diff: float, label: str) -> pd.DataFrame:
    df = pd.DataFrame({"lever": parts.index, "contribution": parts.to_numpy()})
    rest = total_diff - float(parts.sum())
    if abs(rest) > 1e-6 * max(1.0, abs(total_diff), float(parts.abs().sum())):
        df.loc[len(df)] = [label, rest]
    return df


def decomposition(inst, plans: dict) -> dict | None:
    """The redesign against salami, split honestly from the plans' own tables."""
    pair = pick_pair(plans)
    if pair is None:
        return None
    a, b = (plans[n] for n in pair)
    services = inst.tables["services"]
    spend = spend_parts(b, services, inst.levels).sub(spend_parts(a, services, inst.levels), fill_value=0.0)
    spend_total = float(b.summary["discounted_spend"] - a.summary["discounted_spend"])
    outcome = outcome_parts(b) - outcome_parts(a)
    outcome_total = float(b.summary["outcome_gain"] - a.summary["outcome_gain"])
    return {"pair": pair,
            "spend": with_residual(spend, spend_total, "not split"),
            "outcome": with_residual(outcome, outcome_total, "not split"),
            "spend_ends": (float(a.summary["discounted_spend"]), float(b.summary["discounted_spend"])),
            "outcome_ends": (float(a.summary["outcome_gain"]), float(b.summary["outcome_gain"]))}


# ----------------------------------------------------------------------------- HTML pieces
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;
  margin:0;background:#f6f6f4;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:1.6em;margin:0.2em 0 0.1em}
h2{font-size:1.2em;margin:1.8em 0 0.4em;border-bottom:2px solid #e4e4e0;padding-bottom:4px}
h3{font-size:1em;margin:1.2em 0 0.3em}
.sub{color:#555;margin:0 0 1em}
.headline{font-size:1.15em;font-weight:600;margin:0.4em 0 0.8em;max-width:60em}
table{border-collapse:collapse;font-size:0.9em;margin:0.4em 0 0.8em}
th,td{padding:4px 10px;border-bottom:1px solid #e4e4e0;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.sub td:first-child{padding-left:24px;color:#555}
thead th{background:#f0f0ec;border-bottom:2px solid #ccc}
.flag{background:#fde2e1;color:#8a1c14;font-weight:600}
.notice{background:#fff4d6;border-left:4px solid #e6a700;padding:8px 12px;margin:0.8em 0}
.error{background:#fde2e1;border-left:4px solid #c0392b;padding:8px 12px;margin:0.8em 0}
figure{margin:0.6em 0 1em}
figure img{width:100%;height:auto;border:1px solid #eee}
figcaption{color:#333;font-size:0.92em;margin-top:6px}
dl.inputs{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;font-size:0.92em}
dl.inputs dt{font-weight:600;color:#444}
dl.inputs dd{margin:0}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:0.9em}
.pair{display:flex;gap:32px;flex-wrap:wrap;align-items:flex-start}
footer{margin-top:2.5em;color:#777;font-size:0.85em}
"""


def img(png: bytes, alt: str) -> str:
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def figure(png: bytes, alt: str, caption: str) -> str:
    return f"<figure>{img(png, alt)}<figcaption>{caption}</figcaption></figure>"


def section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{esc(anchor)}">\n<h2>{esc(title)}</h2>\n{body}\n</section>'


def html_table(header: list[str], rows: list[tuple[list[str], list[str]]], num_from: int = 1,
               row_classes: list[str] | None = None) -> str:
    """`rows`: (cells, classes per cell); cells are already escaped HTML."""
    th = "".join(f'<th class="{"num" if i >= num_from else ""}">{h}</th>' for i, h in enumerate(header))
    body = []
    for r, (cells, classes) in enumerate(rows):
        rc = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        tds = "".join(f'<td class="{" ".join(c for c in (("num" if i >= num_from else ""), cls) if c)}">{v}</td>'
                      for i, (v, cls) in enumerate(zip(cells, classes)))
        body.append(f"<tr{rc}>{tds}</tr>")
    return f"<table><thead><tr>{th}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def cut_text(cut) -> str:
    """'a 25% cut phased over four years (--cut 1:0.0625,2:0.125,3:0.1875,4:0.25)'."""
    words, given = cut_words(cut), cli_cut(cut)
    return words if words == given or given == "no cut" else f"{words} (--cut {given})"


def flagged(plans: dict) -> list[str]:
    out = []
    for name, p in plans.items():
        s = p.summary
        if p.status in Status.FLAGGED:
            gap = s.get("mip_gap")
            why = ("stopped at the time limit" if p.status == Status.TIME_LIMIT
                   else "could not certify its solve (suboptimal)")
            out.append(f"<b>{esc(name)}</b> {why}: the best plan found, not proven optimal"
                       + (f" (MIP gap {esc(fmt('mip_gap', gap))})" if gap is not None else "") + ".")
        elif p.status not in HAS_PLAN:
            text = f"<b>{esc(name)}</b>: {esc(p.status)}, no plan to show."
            if s.get("solver_message"):
                text += f" Solver: {esc(s['solver_message'])}."
            out.append(text)
        if p.violations:
            out.append(f"<b>{esc(name)}</b> failed the independent check: "
                       + "; ".join(esc(v) for v in p.violations[:5])
                       + (f" (and {len(p.violations) - 5} more)" if len(p.violations) > 5 else "") + ".")
        for c in (s.get("conflicts") or [])[:10]:
            out.append(f"<b>{esc(name)}</b>: {esc(c)}")
    return out


def comparison_html(comparison, levels: list[str], meta: dict | None = None,
                    outcome: str = "weighted outcome points") -> str:
    table = comparison.table(levels)
    plans = comparison.plans
    names = list(table.index)
    header = ["measure"] + [esc(n) + (f' <span class="flag">{esc(plans[n].status.replace("_", " "))}</span>'
                                      if plans[n].status in Status.FLAGGED else "") for n in names]
    rows = [([esc("cut")] + [esc(cli_cut(plans[n].summary.get("cut"))) for n in names], [""] * (len(names) + 1))]
    classes = [""]
    for key in table.columns:
        label = measure_label(key, outcome)
        cells, cls = [esc(label.strip())], [""]
        for n in names:
            v = table.loc[n, key]
            cells.append(esc(show(key, v, meta)))
            cls.append("flag" if key == "status" and v != "optimal" else "")
        rows.append((cells, cls))
        classes.append("sub" if label.startswith(" ") else "")
    ver = [plans[n].summary.get("verified") for n in names]
    rows.append(([esc("independent check passed")] + [esc("-" if v is None else ("yes" if v else "NO")) for v in ver],
                 [""] + ["flag" if v is False else "" for v in ver]))
    classes.append("")
    return html_table(header, rows, row_classes=classes)


def inputs_html(inst, comparison) -> str:
    plans = comparison.plans
    first = next(iter(plans.values()), None)
    meta = inst.meta
    items = [("instance", esc(inst.name)),
             ("description", esc(" ".join(str(meta.get("description", "")).split())) or "-"),
             ("source", f"<code>{esc(inst.source or '-')}</code>"),
             ("price year", esc(meta.get("price_year", "-"))),
             ("years", f"{esc(year_label(meta, 1))} to {esc(year_label(meta, inst.horizon))} "
                       f"({esc(inst.horizon)} years after the base year {esc(meta.get('base_year', '?'))})"),
             ("outcome unit", esc(outcome_unit(inst))),
             ("discount rate", esc(f"{inst.discount_rate:.2%}")),
             ("need levels", esc(" → ".join(inst.levels)))]
    cut = comparison.cut
    for p in plans.values():
        if p.summary.get("policy") != "status_quo" and isinstance(p.summary.get("cut"), dict):
            cut = p.summary["cut"]
            break
    items.append(("budget cut", esc(cut_text(cut)) + "; the status quo runs with no cut"))
    if inst.changes:
        items.append(("scenario changes", "<br>".join(esc(c) for c in inst.changes)))
    else:
        items.append(("scenario changes", "none (the base instance)"))
    models = []
    for name, p in plans.items():
        s, i = p.summary, p.inputs
        levers = s.get("levers")
        lever_text = ", ".join(levers) if levers else "none"
        mf = i.get("model_file") or ""
        models.append(f"<b>{esc(name)}</b>: model {esc(i.get('model', name))}"
                      + (f" (<code>{esc(Path(str(mf)).name)}</code>)" if mf else "")
                      + f", objective {esc(s.get('objective', '-'))}, free levers: {esc(lever_text)}")
    items.append(("models", "<br>".join(models) or "-"))
    versions = (first.inputs.get("versions") if first else None) or {}
    items.append(("versions", esc(", ".join(f"{k} {v}" for k, v in versions.items())) or "-"))
    return '<dl class="inputs">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def sweep_table(sweep: pd.DataFrame) -> str:
    policies = list(dict.fromkeys(sweep["policy"]))
    cuts = sorted(set(float(c) for c in sweep["cut"]))
    header = ["cut"] + [f"{esc(p)}: {h}" for p in policies for h in ("retained", "overspend")]
    rows = []
    for c in cuts:
        cells, cls = [esc(f"{c:.0%}")], [""]
        for p in policies:
            r = sweep[(sweep["policy"] == p) & (sweep["cut"].astype(float) == c)]
            if r.empty:
                cells += ["-", "-"]
                cls += ["", ""]
                continue
            r = r.iloc[0]
            if r["status"] not in HAS_PLAN:
                cells += [esc(r["status"]), "-"]
                cls += ["flag", ""]
                continue
            ret = r.get("outcome_retained")
            ret_text = "-" if ret is None or (isinstance(ret, float) and math.isnan(ret)) else f"{ret:.1%}"
            if r["status"] in Status.FLAGGED:
                ret_text += f" ({r['status'].replace('_', ' ')})"
            cells += [esc(ret_text), esc(fmt("overspend", r["overspend"]))]
            cls += ["flag" if r["status"] in Status.FLAGGED else "", ""]
        rows.append((cells, cls))
    return html_table(header, rows)


def frame_html(df: pd.DataFrame, outcome: str, max_rows: int = 200) -> str:
    """Any table of results: headers with their units, numbers right-aligned (£ for money)."""
    from .labels import POUNDS, column_unit, with_unit
    units = {c: column_unit(str(c), outcome) for c in df.columns}
    numeric = {c: pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]) for c in df.columns}

    def cell(c, v):
        if v is None or (not isinstance(v, str) and pd.isna(v)):
            return "-"
        if numeric[c]:
            return f"£{v:,.0f}" if units[c] == POUNDS else f"{v:,.4g}" if abs(v) < 100 else f"{v:,.0f}"
        return str(v)
    first = next((i for i, c in enumerate(df.columns) if numeric[c]), len(df.columns))
    rows = [([esc(cell(c, v)) for c, v in zip(df.columns, r)], [""] * len(df.columns))
            for r in df.head(max_rows).itertuples(index=False)]
    note = f'<p class="sub">The first {max_rows} of {len(df)} rows.</p>' if len(df) > max_rows else ""
    return html_table([esc(with_unit(str(c), units[c] if numeric[c] else "")) for c in df.columns], rows,
                      num_from=first) + note


def decomposition_table(df: pd.DataFrame, ends: tuple[float, float], pair, money: bool) -> str:
    f = (lambda v: fmt("overspend", v)) if money else (lambda v: f"{v:,.1f}")
    sign = (lambda v: ("+" if v >= 0 else "-") + fmt("overspend", abs(v))) if money else (lambda v: f"{v:+,.1f}")
    rows = [([esc(pair[0])], [""])]
    rows[0][0].append(esc(f(ends[0])))
    rows[0][1].append("")
    for lab, v in zip(df["lever"], df["contribution"]):
        rows.append(([esc(lab), esc(sign(v))], ["", ""]))
    rows.append(([esc(pair[1]), esc(f(ends[1]))], ["", ""]))
    return html_table(["", "discounted spend" if money else "outcome gain"], rows)


# ----------------------------------------------------------------------------- the report
def chosen_cut(comparison):
    """The cut the cut policies ran at (the status quo runs with none)."""
    for p in comparison.plans.values():
        if p.summary.get("policy") != "status_quo" and isinstance(p.summary.get("cut"), dict):
            return p.summary["cut"]
    return comparison.cut


def final_share(cut) -> float | None:
    """The share a cut reaches (its last year's): where the chosen cut sits on the sweep's axis."""
    if isinstance(cut, dict):
        return float(list(dict(sorted(cut.items(), key=lambda kv: int(kv[0]))).values())[-1]) if cut else None
    try:
        return float(cut)
    except (TypeError, ValueError):
        return None


def crisis_spend_sentence(plans: dict, inst) -> str:
    """Each policy's direct spend on the last need level in the final year, against the status quo's."""
    plans = charts.with_plan(plans, "units")
    if not plans:
        return ""
    services, level = inst.tables["services"], list(inst.levels)[-1]
    spend = {}
    for k, p in plans.items():
        d = charts.direct_by_level(p, services)
        spend[k] = (int(d.index.max()), float(d[level].iloc[-1]) if level in d.columns else 0.0)
    year = max(y for y, _ in spend.values())
    text = f"Direct spend on {level} services in {year_label(inst.meta, year)}: " + ", ".join(
        f"{k} {charts.money_short(v, signed=False)}" for k, (_, v) in spend.items()) + "."
    if "status_quo" in spend:
        base = spend["status_quo"][1]
        below = [k for k, (_, v) in spend.items() if k != "status_quo" and v < base - 0.5]
        above = [k for k, (_, v) in spend.items() if k != "status_quo" and v > base + 0.5]
        if below:
            text += f" Below the status quo's: {', '.join(below)}."
        if above:
            text += f" Above it: {', '.join(above)}."
    return text


def build_report(inst, comparison, sweep: pd.DataFrame | None = None, attribution: pd.DataFrame | None = None,
                 extra: dict[str, pd.DataFrame] | None = None, uncertainty=None) -> str:
    """A complete, self-contained HTML document for one comparison (see the module doc).
    `extra` {title: table}: more results, a section each; `uncertainty`: an uncertainty run
    (runs/uncertainty.py), its section after the comparison."""
    if attribution is not None and not {"lever", "contribution"} <= set(attribution.columns):
        raise ValueError(f"attribution needs columns lever and contribution, got {', '.join(map(str, attribution.columns))}")
    plans = comparison.plans
    levels = list(inst.levels)
    meta = inst.meta
    outcome = outcome_unit(inst)
    cut = chosen_cut(comparison)
    title = f"commissionopt report: {inst.name}"
    parts = [f"<h1>{esc(title)}</h1>"]
    key_message = headline(comparison)
    if key_message:
        parts.append(f'<p class="headline">{esc(key_message)}</p>')
    parts.append(f'<p class="sub">Salami slicing against whole-system redesign at {esc(cut_text(cut))}. '
                 f"Money in pounds at {esc(meta.get('price_year', 'the instance'))} prices; discounted at "
                 f"{esc(f'{inst.discount_rate:.2%}')} a year. Outcomes in {esc(outcome)}. "
                 f"{esc(money_note(plans))}</p>")
    notes = flagged(plans)
    if notes:
        parts.append('<div class="notice"><b>Read with care.</b><ul>' + "".join(f"<li>{n}</li>" for n in notes)
                     + "</ul></div>")
    parts.append(section("inputs", "Inputs", inputs_html(inst, comparison)))
    parts.append(section("comparison", "Comparison", comparison_html(comparison, levels, meta, outcome)
                         + "<p class=\"sub\">Every policy on one accounting. redesign_same_money is the redesign "
                           "given exactly the money salami used, its overspend included. Flagged cells: a plan not "
                           "proven optimal, no plan, or a failed independent check.</p>"))
    if uncertainty is not None:
        from .uncertainty import section as uncertainty_section
        parts.append(section("uncertainty", "How sure: the answer across the evidence",
                             uncertainty_section(uncertainty, inst, outcome)))

    # 1. outcome retained against cut
    if sweep is not None and len(sweep):
        sweep = with_retained(sweep, plans)
        final = final_share(cut)
        body = figure(charts.outcome_vs_cut(sweep, chosen=final),
                      "Outcome retained and overspend against the budget cut",
                      "<b>How to read it.</b> Left: the outcome gain each policy keeps, as a share of the status "
                      "quo's gain with no cut (the dashed line, 100%), as the cut deepens (each point a cut "
                      "applied in every year). Right: the discounted overspend each policy needs to keep "
                      "statutory duties met. Hollow markers: the time limit stopped the solve (not proven "
                      "optimal); x on the axis and a break in the line: no plan at that cut. "
                      f"<b>What it shows.</b> {esc(sweep_sentence(sweep, final))} "
                      + ("redesign_same_money is given, at each cut, exactly the money salami used there."
                         if "redesign_same_money" in set(sweep["policy"]) else ""))
        body += sweep_table(sweep)
        if "mip_gap" in sweep.columns:
            body += ('<p class="sub">Sweep solves use a looser MIP gap than the comparison to stay quick; the '
                     "comparison table above is the authoritative figure at the chosen cut.</p>")
    else:
        body = '<p class="notice">No sweep was run, so there is no outcome-against-cut chart. Build one with ' \
               "<code>small_sweep(engine)</code>.</p>"
    parts.append(section("outcome-vs-cut", "Outcome retained against the cut", body))

    # 2. spend by need level over the years
    parts.append(section("spend-by-level", "Spend by need level over the years", figure(
        charts.spend_by_level(plans, inst), "Spend by need level and year, per policy",
        "<b>How to read it.</b> Top: each policy's spend a year, stacked by the need level of the services "
        "it buys (lighter = earlier need, dark red = crisis), with staff, buildings, setup and pooling in grey. "
        "Bottom: the same, each policy against the status quo, year by year; the black line is the total. "
        "Invest-to-save shows as a J-curve: spend on early need and setup rises first, then crisis spend "
        "falls below the status quo as fewer people reach crisis. Undiscounted pounds. "
        f"<b>What it shows.</b> {esc(crisis_spend_sentence(plans, inst))} {esc(money_note(plans))}")))

    # 3. need by level over time
    parts.append(section("need-by-level", "Need by level over time", figure(
        charts.need_by_level(plans, levels, meta), "People in need by level and year, per policy",
        "<b>How to read it.</b> A column per policy, a row per need level: people in need each year "
        "(solid) and those in need but not served (dashed). Each row has one scale, so the policies compare "
        "across a row; rows have their own scales (levels differ in size). Prevention shows as the "
        "crisis row growing more slowly, or falling, when earlier need is met. "
        f"<b>What it shows.</b> {esc(final_year_sentence(plans, meta, levels[-1], year_label))}")))

    # 4. where the advantage comes from
    if attribution is not None and len(attribution):
        ends = attribution.attrs.get("v_empty"), attribution.attrs.get("v_all")
        framed = all(isinstance(v, (int, float)) and math.isfinite(v) for v in ends)
        body = figure(charts.waterfall(attribution, title="Gain attributed to each lever",
                                       start=("no lever free (salami)", ends[0]) if framed else None,
                                       end_label="every lever free" if framed else "total gain",
                                       ylabel="outcome gain over no provision" if framed else "outcome gain",
                                       value_format=lambda v: f"{v:+,.1f}", axis_format=lambda v: f"{v:,.0f}"),
                      "Waterfall of the redesign's gain by lever",
                      "<b>How to read it.</b> Each bar is one lever's share of the redesign's gain over salami "
                      "slicing (green adds, orange takes away)"
                      + ("; the first bar is the outcome gain with no lever free (salami slicing), the last with "
                         "every lever free" if framed else "; the last bar is the total")
                      + ". The shares come from the attribution supplied with this report.")
        gap = attribution.attrs.get("largest_gap")
        if isinstance(gap, (int, float)) and math.isfinite(gap) and gap > 0:
            body += (f'<p class="sub">Each subset was solved to a MIP gap of at most {esc(fmt("mip_gap", gap))}; '
                     "the shares are approximate to about that.</p>")
        rows = [([esc(a), esc(f"{float(c):+,.2f}")], ["", ""])
                for a, c in zip(attribution["lever"], attribution["contribution"])]
        rows.append(([esc("total"), esc(f"{float(attribution['contribution'].sum()):+,.2f}")], ["", ""]))
        body += html_table(["lever", "contribution"], rows)
    else:
        dec = decomposition(inst, plans)
        if dec is None:
            body = ('<p class="notice">No lever attribution was supplied, and there is no salami and redesign '
                    "plan pair to decompose.</p>")
        else:
            a, b = dec["pair"]
            spend_panel = {"df": dec["spend"], "title": f"Discounted spend: {b} minus {a}",
                           "end_label": "net", "ylabel": "more (+) or less (-) spend",
                           "value_format": charts.money_short,
                           "axis_format": charts.millions}
            outcome_panel = {"df": dec["outcome"], "title": f"Outcome gain: from {a} to {b}",
                             "ylabel": "outcome gain over no provision",
                             "start": (a, dec["outcome_ends"][0]), "end_label": b,
                             "value_format": lambda v: f"{v:+,.1f}",
                             "axis_format": lambda v: f"{v:,.0f}"}
            body = figure(charts.waterfalls([spend_panel, outcome_panel]),
                          f"Waterfalls from {a} to {b}: spend and outcome",
                          f"<b>This is an accounting decomposition, not a lever attribution.</b> It splits the "
                          f"difference between <b>{esc(b)}</b> and <b>{esc(a)}</b> into the parts the plans' own "
                          f"tables add up to. Top: discounted spend, as direct spend on services at each need "
                          f"level plus staff, buildings, setup and pooling (the last bar, net, is the difference in total). "
                          f"Bottom: the outcome gain, from {esc(a)}'s to {esc(b)}'s, as the "
                          f"services' discounted gain and the harm of need during the horizon and left at its "
                          f"end (less harm shows as a rise). Green adds, orange takes away. Which lever caused "
                          f"each change needs a lever attribution (re-solving with levers switched on and off).")
            body += ('<div class="pair">'
                     + decomposition_table(dec["spend"], dec["spend_ends"], dec["pair"], True)
                     + decomposition_table(dec["outcome"], dec["outcome_ends"], dec["pair"], False) + "</div>")
    parts.append(section("advantage", "Where the redesign's advantage comes from", body))
    for i, (title, df) in enumerate((extra or {}).items()):
        parts.append(section(f"extra-{i + 1}", str(title), frame_html(df, outcome)))

    version = ""
    first = next(iter(plans.values()), None)
    if first is not None:
        version = (first.inputs.get("versions") or {}).get("commissionopt", "")
    parts.append(f"<footer>Made by commissionopt {esc(version)}. Charts are embedded images; this file "
                 "loads nothing from the network.</footer>")
    head = ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
            'style-src \'unsafe-inline\'">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n")
    return head + "<body>\n<main>\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n"


def write_report(path: str | Path, html: str, force: bool = False) -> Path:
    """Write the report atomically: a failed write never leaves a half-written file;
    an existing file is replaced only with `force`."""
    path = Path(path)
    with atomic_file(path, force) as tmp:
        Path(tmp).write_text(html, encoding="utf-8")
    return path
