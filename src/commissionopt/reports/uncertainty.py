"""An uncertainty run (runs/uncertainty.py) in words, HTML, JSON, a result folder and tidy rows.

    sentence(u)   -> "In 83% of 200 draws the redesign beats salami slicing; it stays within the money in 91%. ..."
    document(u, inst)            # the JSON `uncertainty --format json` prints (docs/uncertainty.md)
    section(u, inst)             # the HTML report's section: the sentence first, the fan, the tornado, core services
    files(u, inst)               # `--out DIR`: uncertainty.json and a CSV per table
    tidy(u, scenario, meta, outcome)   # every figure as tidy rows (reports/tidy.py)

Every claim is computed from the run's tables; nothing is fixed text about a result.
"""
from __future__ import annotations

import json

import pandas as pd

from .headline import money, name
from .labels import cut_text, summary_unit

MEASURE_NAMES = {"outcome_gain": "outcome gain", "overspend": "overspend (discounted)",
                 "discounted_spend": "discounted spend", "crisis_need_final_year": "crisis need, final year"}


def _pct(p) -> str:
    return "-" if p is None else f"{p:.0%}"


def _counted(u, measure: str) -> tuple[float | None, int, int]:
    row = u.probabilities[u.probabilities["measure"] == measure]
    if row.empty:
        return None, 0, 0
    r = row.iloc[0]
    return (None if pd.isna(r["probability"]) else float(r["probability"])), int(r["draws"]), int(r["failed"])


def sentence(u) -> str:
    """The probability sentence: how often the redesign beats salami and stays within the money,
    how often the committed central plan beats salami, and what was left out."""
    beat, n, failed = _counted(u, "redesign_beats_salami")
    within, _, _ = _counted(u, "redesign_within_money")
    if beat is None:
        return f"No draw of the {u.draws} gave both salami and the redesign an answer: nothing can be said."
    of = f"{n} draws" if n == u.draws else f"the {n} draws answered (of {u.draws})"
    text = (f"In {_pct(beat)} of {of} the redesign beats salami slicing (more outcome gain at no more "
            f"overspend); it stays within the money in {_pct(within)}.")
    committed, cn, _ = _counted(u, "committed_beats_salami")
    if committed is not None:
        text += (f" Committed today to the central plan's options, buildings and pooling, with volumes "
                 f"re-planned in each draw, it beats salami in {_pct(committed)}"
                 + ("." if cn == n else f" (of {cn} draws answered)."))
    infeasible = u.results[(u.results["policy"] == "salami") & (u.results["outcome"] == "infeasible")]
    if len(infeasible):
        text += (f" In {len(infeasible)} draw{'s' if len(infeasible) > 1 else ''} salami slicing has no plan "
                 "that meets the statutory duties.")
    draws_failed = u.failed["draw"].nunique() if len(u.failed) else 0
    if draws_failed:
        text += (f" {draws_failed} draw{'s' if draws_failed > 1 else ''} had a plan that failed a check or ended "
                 "without one: left out of these shares, listed below.")
    return text


def robust_sentence(u) -> str:
    """What the robust plan gives up at central evidence and gains at the pessimistic end."""
    if u.robust is None or u.robust_summary is None:
        return ""
    s = u.robust_summary
    if "robust" not in set(u.robust["plan"]):
        return (f"The robust plan over {s.get('draws')} draws ended {s.get('status')} without a plan "
                f"({s.get('solver_message', '')}).")
    t = u.robust.set_index("plan")
    c, r = t.loc["committed"], t.loc["robust"]
    parts = []
    if pd.notna(c["gain_at_central"]) and pd.notna(r["gain_at_central"]):
        d = r["gain_at_central"] - c["gain_at_central"]
        o = r["overspend_at_central"] - c["overspend_at_central"]
        parts.append(f"at central evidence it {'gives up' if d < 0 else 'adds'} {abs(d):,.1f} of outcome gain "
                     f"({r['gain_at_central']:,.1f} against the central plan's {c['gain_at_central']:,.1f})"
                     + (f" with {money(abs(o))} {'more' if o > 0 else 'less'} overspend" if abs(o) >= 1 else ""))
    if pd.notna(c["worst_tenth_gain"]) and pd.notna(r["worst_tenth_gain"]):
        d = r["worst_tenth_gain"] - c["worst_tenth_gain"]
        parts.append(f"across the worst tenth of the draws it {'gains' if d >= 0 else 'loses'} {abs(d):,.1f} "
                     f"({r['worst_tenth_gain']:,.1f} against {c['worst_tenth_gain']:,.1f})")
    if pd.notna(c["mean_gain"]) and pd.notna(r["mean_gain"]):
        parts.append(f"on average {r['mean_gain']:,.1f} against {c['mean_gain']:,.1f}")
    aim = "mean outcome gain" if s.get("risk") == "mean" else "mean outcome gain of its worst tenth of draws"
    return (f"The robust plan (one set of options, buildings and pooling that maximises the {aim} over "
            f"{s.get('draws')} draws of its own, evaluated on the run's {u.draws}): " + "; ".join(parts) + ".")


# ----------------------------------------------------------------------------- JSON
def document(u, inst, scenario: str | None = None) -> dict:
    """The JSON of an uncertainty run (docs/uncertainty.md, "JSON"); timings apart."""
    from .output import SCHEMA_VERSION, jsonable, plan_json
    q = {}
    for r in u.quantiles.itertuples(index=False):
        q.setdefault(r.policy, {})[r.measure] = {"p5": r.p5, "p50": r.p50, "p95": r.p95, "mean": r.mean,
                                                 "draws": r.draws}
    sel = u.selection
    doc = {"schema_version": SCHEMA_VERSION, "instance": inst.name, "source": str(inst.source or ""),
           "scenario": scenario, "scenario_changes": list(inst.changes), "cut": u.cut, "cut_text": cut_text(u.cut),
           "draws": u.draws, "seed": u.seed, "draw_names": list(u.design.columns), "sentence": sentence(u),
           "probabilities": {r.measure: r.probability for r in u.probabilities.itertuples(index=False)},
           "counted": {r.measure: {"draws": r.draws, "failed": r.failed} for r in u.probabilities.itertuples(index=False)},
           "quantiles": q,
           "selection": _records(sel),
           "core": list(sel.loc[sel["class"] == "core", "item"]),
           "borderline": list(sel.loc[sel["class"] == "borderline", "item"]),
           "rare": list(sel.loc[sel["class"] == "rare", "item"]),
           "tornado": {"central_lead": u.tornado.attrs.get("central_lead"), "rows": _records(u.tornado)},
           "fan": _records(u.fan),
           "failed": _records(u.failed),
           "robust": None if u.robust is None else {
               "sentence": robust_sentence(u), "plans": _records(u.robust),
               "solve": {k: v for k, v in (u.robust_summary or {}).items() if not k.endswith("_seconds")}},
           "central": {k: plan_json(p) for k, p in u.central.plans.items()},
           "timings": {**u.timings, **{f"robust_{k}": v for k, v in (u.robust_summary or {}).items()
                                       if k.endswith("_seconds")}}}
    return jsonable(doc)


def _records(df: pd.DataFrame) -> list[dict]:
    return df.astype(object).where(df.notna(), None).to_dict(orient="records")


def files(u, inst, scenario: str | None = None) -> dict:
    """`uncertainty --out DIR`: uncertainty.json and each table as CSV."""
    out = {f"{k}.csv": v for k, v in u.tables().items()}
    out["uncertainty.json"] = json.dumps(document(u, inst, scenario), indent=2)
    return out


# ----------------------------------------------------------------------------- tidy
def tidy(u, scenario: str = "", meta: dict | None = None, outcome: str = "weighted outcome points") -> pd.DataFrame:
    """The run's figures as tidy rows (reports/tidy.py's columns): table `uncertainty_<name>`, the
    policy where a row has one, the row's names (measure, item, draw name, draw) as `key`."""
    from .tidy import concat, melt
    cut, parts = cut_text(u.cut), []
    for name, df in u.tables().items():
        if df.empty:
            continue
        if name == "quantiles":  # a measure a row: each row's figures in that measure's unit
            for (policy, measure), g in df.groupby(["policy", "measure"], sort=False):
                unit = summary_unit(measure, outcome)
                figures = g.drop(columns=["policy", "measure"]).assign(key=measure)
                parts.append(melt(figures, f"uncertainty_{name}", policy, scenario, cut, meta, outcome,
                                  {**dict.fromkeys(("p5", "p50", "p95", "mean"), unit),
                                   **dict.fromkeys(("draws", "infeasible", "failed"), "draws")}))
            continue
        texts = [c for c in df.columns if c != "policy" and (c == "draw" or not (
            pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])))]
        keyed = df.drop(columns=texts).assign(key=["/".join(map(str, r)) for r in df[texts].itertuples(index=False)])
        groups = keyed.groupby("policy", sort=False) if "policy" in keyed.columns else [("", keyed)]
        for policy, g in groups:
            parts.append(melt(g.drop(columns=["policy"], errors="ignore"), f"uncertainty_{name}", str(policy),
                              scenario, cut, meta, outcome, _units(name, outcome)))
    return concat(parts)


def _units(table: str, outcome: str) -> dict:
    share = {c: "share" for c in ("probability", "share", "p5", "p50", "p95", "outcome_retained")}
    counts = dict.fromkeys(("draws", "failed", "infeasible"), "draws")
    outcomes = dict.fromkeys(("outcome_gain", "lead_low", "lead_high", "change_low", "change_high", "swing",
                              "gain_at_central", "mean_gain", "p5_gain", "worst_tenth_gain"), outcome)
    return {**counts, **outcomes, **share, "used_centrally": "true/false", "verified": "true/false",
            "crisis_need_final_year": "people", "mip_gap": "share"} if table != "draw_design" else {}


# ----------------------------------------------------------------------------- HTML
def section(u, inst, outcome: str) -> str:
    """The HTML report's uncertainty section (reports/html.py places it after the comparison)."""
    from . import charts
    from .html import esc, figure, final_share, frame_html
    parts = [f'<p class="headline">{esc(sentence(u))}</p>',
             f'<p class="sub">{u.draws} draws of the figures in ranges.csv (a Latin hypercube, seed {u.seed}; rows '
             "of one group move together), each solved as its own instance: salami slicing, the redesign "
             "re-optimised, and the <b>committed</b> plan: the central redesign's options, buildings and pooling "
             "kept, volumes, staff and money re-planned. A plan that fails the independent check is not counted; "
             "an infeasible draw is an answer.</p>"]
    if len(u.fan):
        parts.append(figure(charts.fan(u.fan, final_share(u.cut)), "Fan chart of outcome retained against the cut",
                            "<b>How to read it.</b> For each cut, the line is the median outcome gain across the "
                            "draws and the band runs from the 5th to the 95th percentile, as a share of the status "
                            "quo's gain at central evidence (the dashed line, 100%). The dotted line is the run's "
                            "cut. The fan's solves use a 1% MIP gap."))
    parts.append("<h3>Across the draws: 5th, 50th and 95th percentiles</h3>" + quantiles_html(u.quantiles, outcome))
    parts.append(figure(charts.tornado(u.tornado), "Tornado of the redesign's lead over salami",
                        "<b>How to read it.</b> Each bar is one uncertain figure (or group of figures that move "
                        "together) at the low (orange) and high (green) end of its range, every other figure at "
                        "its central value: how far the redesign's lead over salami in outcome gain moves from "
                        "its central value (the black line). The largest swing is on top."))
    parts.append(frame_html(u.tornado.drop(columns=["status_low", "status_high"]), outcome))
    sel = u.selection
    for cls, words in (("core", "Core (used in at least 90% of the draws)"),
                       ("borderline", "Borderline (used in more than 10% and less than 90%)")):
        rows = sel[sel["class"] == cls]
        items = ", ".join(f"{esc(r.item)} ({'closure' if r.kind == 'closure' else 'option'}, {r.share:.0%})"
                          for r in rows.itertuples()) or "none"
        parts.append(f"<p><b>{words}:</b> {items}.</p>")
    if u.robust is not None:
        parts.append("<h3>A robust plan</h3>" + f"<p>{esc(robust_sentence(u))}</p>" + frame_html(u.robust, outcome))
    if len(u.failed):
        parts.append('<div class="error"><b>Draws left out.</b><ul>' + "".join(
            f"<li>draw {int(r.draw)}, {esc(r.policy)}: {esc(r.status)}: {esc(r.why)}</li>"
            for r in u.failed.head(30).itertuples()) + "</ul></div>")
    return "\n".join(parts)


def quantiles_html(q: pd.DataFrame, outcome: str) -> str:
    """The quantiles table, each row in its measure's unit."""
    from .html import esc, html_table
    from .labels import measure_label, show
    stats = ["p5", "p50", "p95", "mean"]
    rows = [([esc(name(r.policy)), esc(measure_label(r.measure, outcome))]
             + [esc(show(r.measure, getattr(r, k))) for k in stats] + [esc(r.draws), esc(r.infeasible), esc(r.failed)],
             [""] * 9) for r in q.itertuples(index=False)]
    return html_table(["policy", "measure", "5th percentile", "median", "95th percentile", "mean", "plans",
                       "infeasible", "failed"], rows, num_from=2)


def terminal(u, inst) -> str:
    """The text `uncertainty` prints as a table."""
    lines = [f"{inst.name}: cut {cut_text(u.cut)}; {u.draws} draws (seed {u.seed}) of {len(u.design.columns)} "
             "uncertain figures or groups", sentence(u), ""]
    q = u.quantiles[u.quantiles["measure"].isin(["outcome_gain", "overspend"])]
    rows = []
    for r in q.itertuples(index=False):
        show = (lambda v: money(v)) if r.measure == "overspend" else (lambda v: f"{v:,.1f}")
        rows.append({"policy": name(r.policy), "measure": MEASURE_NAMES[r.measure],
                     **{k: ("-" if pd.isna(getattr(r, k)) else show(getattr(r, k))) for k in ("p5", "p50", "p95")},
                     "plans": r.draws, "infeasible": r.infeasible, "failed": r.failed})
    lines.append(pd.DataFrame(rows).to_string(index=False))
    sel = u.selection
    for cls in ("core", "borderline"):
        items = [f"{r.item} ({r.share:.0%})" for r in sel[sel["class"] == cls].itertuples()]
        lines.append(f"\n{cls}: " + (", ".join(items) or "none"))
    t = u.tornado[u.tornado["swing"].notna()].head(10)
    if len(t):
        lines.append("\nTornado: the redesign's lead over salami (outcome gain) at each range's low and high, "
                     f"central {u.tornado.attrs.get('central_lead') or 0:,.1f}")
        lines.append(t[["draw", "lead_low", "lead_high", "swing", "what"]].to_string(
            index=False, float_format=lambda v: f"{v:,.2f}", max_colwidth=60))
    if u.robust is not None:
        lines.append("\n" + robust_sentence(u))
    if len(u.failed):
        lines.append("\nFailed draws (left out):")
        lines.append(u.failed.to_string(index=False, max_colwidth=90))
    return "\n".join(lines)
