"""Charts for the HTML report: PNG bytes from pandas tables only.

Every function takes result tables (a Plan's `tables`, a sweep DataFrame, an attribution
DataFrame) and returns PNG bytes. Output is deterministic: fixed figure sizes and dpi, no
timestamps or software names in the file, text drawn as plain text (a `$` in a name from a
user's file is never read as mathematics).

Embeddable: figures are `matplotlib.figure.Figure` objects rendered straight to PNG, never
through pyplot, so a host's backend, open figures and display are left alone. The house
style is applied with `rc_context` under a lock (rcParams are process-wide), and only while
a figure is drawn.
"""
from __future__ import annotations

import io
import textwrap
import threading
from contextlib import contextmanager

import matplotlib
import matplotlib.colors
import matplotlib.lines
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from ..solve.status import Status
from .labels import year_label

DPI = 110
WIDTH = 11.0  # inches: 1210 px at DPI, shown scaled to the page width
HAS_PLAN = Status.HAS_PLAN  # a plan to show (time_limit and suboptimal ones flagged)

STYLE = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same glyphs on every machine
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.8,
    "legend.frameon": False,
    "svg.hashsalt": "commissionopt",
}

POLICY_COLOURS = {
    "status_quo": "#7f7f7f",
    "salami": "#d95f02",
    "redesign": "#1b6ca8",
    "redesign_same_money": "#1b9e77",
}
OTHER_COLOURS = ["#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#17becf", "#8c564b"]
OVERHEAD_COLOUR = "#c7c7c7"
UP, DOWN, TOTAL = "#2a9d8f", "#e76f51", "#264653"


_STYLE_LOCK = threading.RLock()


@contextmanager
def styled():
    """The house style while a chart is drawn; one chart at a time in this process."""
    with _STYLE_LOCK, matplotlib.rc_context(STYLE):
        yield


# ----------------------------------------------------------------------------- helpers
def policy_colour(name: str, order: list[str]) -> str:
    if name in POLICY_COLOURS:
        return POLICY_COLOURS[name]
    others = [p for p in order if p not in POLICY_COLOURS]
    return OTHER_COLOURS[others.index(name) % len(OTHER_COLOURS)] if name in others else "#333333"


def level_colours(levels: list[str]) -> dict[str, str]:
    """Ordered need levels from pale (early) to dark red (crisis)."""
    cmap = matplotlib.colormaps["YlOrRd"]
    n = len(levels)
    return {lv: matplotlib.colors.to_hex(cmap(0.45 + 0.5 * (i / max(1, n - 1)))) for i, lv in enumerate(levels)}


def wrap(label: str, width: int) -> str:
    """A tick label on several lines, broken at spaces or after underscores."""
    lines = textwrap.wrap(str(label).replace("_", "_ "), width, break_long_words=False) or [""]
    return "\n".join(line.replace("_ ", "_") for line in lines)


def money_short(v: float, signed: bool = True) -> str:
    """Pounds in three significant figures: +£72.5m, -£295m, +£186k, £950."""
    sign = ("+" if v >= 0 else "-") if signed else ("-" if v < 0 else "")
    a = abs(v)
    if a >= 1e6:
        return f"{sign}£{a / 1e6:,.3g}m"
    if a >= 1e3:
        return f"{sign}£{a / 1e3:,.3g}k"
    return f"{sign}£{a:,.0f}"


def millions(v, _pos=None) -> str:
    sign, a = ("-" if v < 0 else ""), abs(v)
    if a == 0:
        return "£0"
    if a >= 5e4:  # £0.25m, £2.5m, £50m, £600m: no trailing zeros
        return f"{sign}£{f'{a / 1e6:,.2f}'.rstrip('0').rstrip('.')}m"
    return f"{sign}£{a:,.0f}"


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def message_chart(text: str, height: float = 1.2) -> bytes:
    """A small image saying why there is no chart (kept so every section has a figure)."""
    with styled():
        fig = Figure(figsize=(WIDTH, height))
        fig.text(0.5, 0.5, text, ha="center", va="center", color="#555555", wrap=True)
        return png(fig)


def with_plan(plans: dict, table: str) -> dict:
    """The plans that have a plan (and the table asked for), in the order given."""
    return {name: p for name, p in plans.items()
            if getattr(p, "status", None) in HAS_PLAN and table in getattr(p, "tables", {})}


def year_ticks(ax, years, meta: dict | None, columns: int = 1) -> None:
    """Plan years on an axis as financial years (2026-27), slanted when they would not fit
    side by side (`columns`: axes across the figure's width)."""
    years = [int(y) for y in years]
    ax.set_xticks(years)
    many = WIDTH / max(1, columns) / max(1, len(years)) < 0.7
    ax.set_xticklabels([year_label(meta or {}, y) for y in years], rotation=45 if many else 0,
                       ha="right" if many else "center", fontsize=8 if many else 9)
    ax.set_xlabel("financial year")


def level_order(levels, seen) -> list[str]:
    levels = list(levels or [])
    return levels + sorted(str(v) for v in set(seen) if v not in levels)


# ----------------------------------------------------------------------------- charts
def outcome_vs_cut(sweep: pd.DataFrame, chosen: float | None = None) -> bytes:
    """Left: outcome retained (% of the status quo's gain) against the cut, a line per policy.
    Right: discounted overspend against the cut. A cut without a plan breaks the line and is
    marked x on the axis; a plan stopped by the time limit is drawn as a hollow marker.
    `chosen`: the comparison's cut (its final share), marked by a dotted line on both."""
    if sweep is None or len(sweep) == 0:
        return message_chart("No sweep was run.")
    df = sweep.copy()
    df["cut"] = df["cut"].astype(float)
    order = list(dict.fromkeys(df["policy"]))
    retained = "outcome_retained" in df.columns and df["outcome_retained"].notna().any()
    with styled():
        fig = Figure(figsize=(WIDTH, 4.0), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        for name in order:
            d = df[df["policy"] == name].sort_values("cut")
            ok = d["status"].isin(HAS_PLAN).to_numpy()
            if not ok.any():
                continue
            c = policy_colour(name, order)
            # a point without a plan is a gap in the line, never bridged
            y = (d["outcome_retained"].astype(float) * 100 if retained else d["outcome_gain"].astype(float)).where(ok)
            x = d["cut"] * 100
            for ax, yy in ((a1, y), (a2, d["overspend"].astype(float).where(ok))):
                ax.plot(x, yy, color=c, lw=2, label=name)
                proven = (d["status"] == "optimal").to_numpy()
                ax.scatter(x[~ok], np.zeros((~ok).sum()), marker="x", color=c, s=30, zorder=3,
                           transform=ax.get_xaxis_transform(), clip_on=False,
                           label=f"{name}: no plan" if (ax is a1 and (~ok).any()) else None)
                ok_tl = ok & ~proven
                ax.scatter(x[proven], yy[proven], color=c, s=28, zorder=3)
                ax.scatter(x[ok_tl], yy[ok_tl], facecolor="white", edgecolor=c, s=36, zorder=3,
                           label=f"{name} (time limit)" if (ax is a1 and ok_tl.any()) else None)
        if retained:
            a1.axhline(100, color="#7f7f7f", lw=1, ls="--")
            a1.annotate("status quo, no cut = 100%", (0.01, 100), xycoords=("axes fraction", "data"),
                        xytext=(0, 4), textcoords="offset points", fontsize=8, color="#555555")
            a1.yaxis.set_major_formatter(PercentFormatter(decimals=0))
            a1.set_ylabel("outcome retained (% of status quo gain)")
        else:
            a1.set_ylabel("outcome gain over no provision")
        if chosen is not None:
            for ax in (a1, a2):
                ax.axvline(chosen * 100, color="#333333", lw=1.2, ls=":")
            a1.annotate(f"chosen cut {chosen:.0%}", (chosen * 100, 0.0), xycoords=("data", "axes fraction"),
                        xytext=(4, 4), textcoords="offset points", fontsize=8, color="#333333")
        a1.set_title("Outcome retained")
        a2.set_title("Overspend needed to meet statutory duties (discounted)")
        a2.yaxis.set_major_formatter(FuncFormatter(millions))
        for ax in (a1, a2):
            ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
            ax.set_xlabel("budget cut")
        a1.legend(loc="best", fontsize=9)
        return png(fig)


def direct_by_level(plan, services: pd.DataFrame) -> pd.DataFrame:
    """Direct spend of a plan by (year, level): each service's spend under its need level."""
    u = plan.tables["units"]
    keys = [c for c in ("area", "service") if c in u.columns and c in services.columns]
    lv = services[keys + ["level"]].drop_duplicates(keys)
    d = u.merge(lv, on=keys, how="left")
    d["level"] = d["level"].fillna("(no level)")
    return d.groupby(["year", "level"])["direct_spend"].sum().unstack("level", fill_value=0.0)


def overheads(plan) -> pd.Series:
    """Spend not tied to a need level: staff, buildings, setup and pooling, by year."""
    s = plan.tables["spend"].set_index("year")
    return s["total"] - s["direct"]


def spend_by_level(plans: dict, inst) -> bytes:
    """Top row: each policy's spend by year, stacked by need level (direct spend of the
    services at that level) plus overheads (staff, buildings, setup, pooling).
    Bottom row (when the status quo is among the plans): each policy's spend by level
    against the status quo, year by year, and the total: the invest-to-save J-curve."""
    plans = with_plan(plans, "units")
    if not plans:
        return message_chart("No plan to chart.")
    services = inst.tables["services"]
    levels = level_order(inst.levels, services["level"])
    colours = level_colours(levels)
    frames = {}
    for name, p in plans.items():
        d = direct_by_level(p, services).reindex(columns=levels, fill_value=0.0)
        d["overheads"] = overheads(p).reindex(d.index, fill_value=0.0)
        frames[name] = d
    base = frames.get("status_quo")
    others = [n for n in frames if n != "status_quo"] if base is not None else []
    n = len(frames)
    with styled():
        top_rows = (n + 3) // 4
        low_rows = (len(others) + 3) // 4
        fig = Figure(figsize=(WIDTH, 3.3 * (top_rows + low_rows) + 0.4), layout="constrained")
        subs = fig.subfigures(2, 1, height_ratios=[top_rows, low_rows]) if others else [fig]
        axes = list(subs[0].subplots(top_rows, min(n, 4), sharey=True, squeeze=False).flat)
        for ax in axes[n:]:
            ax.set_visible(False)
        for i, (ax, (name, d)) in enumerate(zip(axes, frames.items())):
            bottom = np.zeros(len(d))
            years = d.index.to_numpy()
            for col in levels + ["overheads"]:
                vals = d[col].to_numpy()
                ax.bar(years, vals, bottom=bottom, color=colours.get(col, OVERHEAD_COLOUR), width=0.75,
                       label=col if col != "overheads" else "staff, buildings, setup, pooling",
                       edgecolor="white", linewidth=0.5)
                bottom = bottom + vals
            ax.set_title(name)
            year_ticks(ax, years, inst.meta, columns=min(n, 4))
            ax.yaxis.set_major_formatter(FuncFormatter(millions))
        first = subs[0].axes[0]
        first.set_ylabel("spend a year")
        handles, labels = first.get_legend_handles_labels()
        if others:
            axes = list(subs[1].subplots(low_rows, min(len(others), 4), sharey=True, squeeze=False).flat)
            for ax in axes[len(others):]:
                ax.set_visible(False)
            for ax, name in zip(axes, others):
                diff = frames[name] - base.reindex(frames[name].index, fill_value=0.0)
                years = diff.index.to_numpy()
                ax.axhline(0, color="#333333", lw=0.8)
                for col in levels + ["overheads"]:
                    ax.plot(years, diff[col], marker="o", ms=3, lw=1.6, color=colours.get(col, "#999999"))
                ax.plot(years, diff.sum(axis=1).to_numpy(), color="black", lw=2.4, marker="s", ms=4)
                ax.set_title(f"{name} against status quo")
                year_ticks(ax, years, inst.meta, columns=min(len(others), 4))
                ax.yaxis.set_major_formatter(FuncFormatter(millions))
            subs[1].axes[0].set_ylabel("more (+) or less (-) a year")
            handles.append(matplotlib.lines.Line2D([], [], color="black", lw=2.4, marker="s", ms=4))
            labels.append("total against status quo")
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6), fontsize=9)
        return png(fig)


def need_by_level(plans: dict, levels: list[str] | None = None, meta: dict | None = None) -> bytes:
    """People in need (solid) and in need but not served (dashed) by year: a row per need
    level (one scale across the row, so policies compare at a glance; levels differ in
    size by orders of magnitude, so each has its own scale), a column per policy."""
    plans = with_plan(plans, "need")
    if not plans:
        return message_chart("No plan to chart.")
    seen = set()
    for p in plans.values():
        seen |= set(p.tables["need"]["level"])
    levels = [lv for lv in level_order(levels, seen) if lv in seen]
    colours = level_colours(levels)
    n = len(plans)
    with styled():
        fig = Figure(figsize=(WIDTH, 0.6 + 1.9 * len(levels)), layout="constrained")
        axes = fig.subplots(len(levels), n, sharex=True, sharey="row", squeeze=False)
        for j, (name, p) in enumerate(plans.items()):
            g = p.tables["need"].groupby(["level", "year"])[["need", "unmet"]].sum()
            years = sorted(set(p.tables["need"]["year"]))
            for i, lv in enumerate(levels):
                ax = axes[i, j]
                if lv in g.index.get_level_values("level"):
                    d = g.xs(lv, level="level")
                    ax.plot(d.index, d["need"], color=colours[lv], lw=2.2, marker="o", ms=3)
                    ax.plot(d.index, d["unmet"], color=colours[lv], lw=1.4, ls="--")
                ax.set_xticks(years)
                ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}"))
                if i == 0:
                    ax.set_title(name)
                if j == 0:
                    ax.set_ylabel(f"{lv}\n(people)")
            year_ticks(axes[-1, j], years, meta, columns=n)
        for i, lv in enumerate(levels):  # from zero, with room above the highest line in the row
            top = max(float(p.tables["need"].loc[p.tables["need"]["level"] == lv].groupby("year")["need"].sum().max()
                            if (p.tables["need"]["level"] == lv).any() else 0.0) for p in plans.values())
            axes[i, 0].set_ylim(0, top * 1.1 if top > 0 else 1.0)
        handles = [matplotlib.lines.Line2D([], [], color="#555555", lw=2.2, marker="o", ms=3),
                   matplotlib.lines.Line2D([], [], color="#555555", lw=1.4, ls="--")]
        fig.legend(handles, ["in need", "in need, not served"], loc="outside lower center", ncols=2, fontsize=9)
        return png(fig)


def waterfall(df: pd.DataFrame, title: str = "", start: tuple[str, float] | None = None,
              end_label: str = "total", value_format=None, ylabel: str = "", ax=None,
              label_width: int | None = None, axis_format=None) -> bytes | None:
    """Bars from `df` (columns lever, contribution) stacked end to end, in the order given.

    With `start` = (label, value) the first bar is that level and the last is the level
    reached (start + contributions); without it the bars start at zero and the last bar
    is the sum. Increases are green, decreases orange, the two end bars dark. Pass `ax`
    to draw into an existing axes (then nothing is returned). `value_format` labels the bars,
    `axis_format` the y axis (both callables of a number)."""
    value_format = value_format or (lambda v: f"{v:+,.3g}")
    labels = [str(v) for v in df["lever"]]
    vals = [float(v) for v in df["contribution"]]
    base = float(start[1]) if start else 0.0
    names, bottoms, heights, colours, texts = [], [], [], [], []
    if start:
        names.append(str(start[0]))
        bottoms.append(0.0)
        heights.append(base)
        colours.append(TOTAL)
        texts.append(value_format(base).lstrip("+"))
    level = base
    for lab, v in zip(labels, vals):
        names.append(lab)
        bottoms.append(level)
        heights.append(v)
        colours.append(UP if v >= 0 else DOWN)
        texts.append(value_format(v))
        level += v
    names.append(end_label)
    bottoms.append(0.0)
    heights.append(level)
    colours.append(TOTAL)
    texts.append(value_format(level).lstrip("+") if start else value_format(level))

    def draw(ax):
        x = np.arange(len(names))
        width_in = ax.get_position().width * ax.figure.get_figwidth()
        small = 8 if width_in / len(names) >= 0.75 else 7
        chars = label_width or max(8, int(width_in * 72 / (0.55 * 8) / len(names)))
        ax.bar(x, heights, bottom=bottoms, color=colours, width=0.65)
        for i in range(len(names) - 1):  # connectors from the top of one bar to the next
            top = bottoms[i] + heights[i]
            ax.plot([i + 0.33, i + 0.67], [top, top], color="#888888", lw=0.8)
        ax.axhline(0, color="#333333", lw=0.8)
        lo = min(min(bottoms), min(b + h for b, h in zip(bottoms, heights)), 0.0)
        hi = max(max(bottoms), max(b + h for b, h in zip(bottoms, heights)), 0.0)
        span = hi - lo or 1.0
        ax.set_ylim(lo - 0.05 * span, hi + 0.12 * span)
        for i, (b, h, t) in enumerate(zip(bottoms, heights, texts)):
            top = b + max(h, 0.0)
            ax.annotate(t, (i, top), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                        fontsize=small)
        ax.set_xticks(x)
        ax.set_xticklabels([wrap(n, chars) for n in names], fontsize=9 if chars >= 12 else 8)
        ax.grid(axis="x", visible=False)
        if title:
            ax.set_title(title)
        if ylabel:
            ax.set_ylabel(ylabel)
        if axis_format is not None:
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: axis_format(v)))

    if ax is not None:
        draw(ax)
        return None
    with styled():
        fig = Figure(figsize=(WIDTH, 4.2), layout="constrained")
        ax = fig.subplots()
        draw(ax)
        return png(fig)


def waterfalls(panels: list[dict]) -> bytes:
    """Several waterfalls, one above the other at full width; each dict holds waterfall()'s
    arguments (df, title, ...)."""
    with styled():
        fig = Figure(figsize=(WIDTH, 3.9 * len(panels)), layout="constrained")
        axes = fig.subplots(len(panels), 1, squeeze=False)
        for ax, kw in zip(axes.flat, panels):
            waterfall(ax=ax, **kw)
        return png(fig)


# ----------------------------------------------------------------------------- uncertainty
def fan(fan_table: pd.DataFrame, chosen: float | None = None) -> bytes:
    """Outcome retained against the cut across evidence draws: per policy the median line and
    the band from the 5th to the 95th percentile (columns policy, cut, p5, p50, p95, draws).
    `chosen`: the run's cut (its final share), marked by a dotted line."""
    if fan_table is None or fan_table.empty or not (fan_table["draws"] > 0).any():
        return message_chart("No fan was drawn: the run solved no cuts besides its own.")
    df = fan_table[fan_table["draws"] > 0].copy()
    order = list(dict.fromkeys(df["policy"]))
    with styled():
        fig = Figure(figsize=(WIDTH, 4.0), layout="constrained")
        ax = fig.subplots()
        for name in order:
            d = df[df["policy"] == name].sort_values("cut")
            x, c = d["cut"].astype(float) * 100, policy_colour(name, order)
            ax.fill_between(x, d["p5"] * 100, d["p95"] * 100, color=c, alpha=0.18, lw=0,
                            label=f"{name}: 5th to 95th percentile")
            ax.plot(x, d["p50"] * 100, color=c, lw=2, marker="o", ms=4, label=f"{name}: median")
        ax.axhline(100, color="#7f7f7f", lw=1, ls="--")
        if chosen is not None:
            ax.axvline(chosen * 100, color="#333333", lw=1.2, ls=":")
        ax.xaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
        ax.set_xlabel("budget cut")
        ax.set_ylabel("outcome retained (% of the status quo's gain)")
        ax.set_title("Outcome retained against the cut, across the evidence draws")
        ax.legend(loc="best", fontsize=8)
        return png(fig)


def tornado(table: pd.DataFrame, rows: int = 15) -> bytes:
    """The redesign's lead over salami with each draw name at its low and at its high (the rest
    central), as bars from the central lead, largest swing on top (columns draw, what, lead_low,
    lead_high, swing; attrs central_lead)."""
    central = table.attrs.get("central_lead") if table is not None else None
    if table is None or table.empty or central is None or not table["swing"].notna().any():
        return message_chart("No tornado: the central plans or the ends' plans are missing.")
    df = table[table["swing"].notna()].head(rows).iloc[::-1]
    with styled():
        fig = Figure(figsize=(WIDTH, 1.2 + 0.38 * len(df)), layout="constrained")
        ax = fig.subplots()
        y = np.arange(len(df))
        for end, colour, shift in (("low", DOWN, 0.19), ("high", UP, -0.19)):  # low above high in each row
            lead = df[f"lead_{end}"].astype(float)
            ax.barh(y + shift, (lead - central).fillna(0.0), left=central, height=0.36, color=colour,
                    label=f"at its {end}")
        ax.axvline(central, color="#333333", lw=1)
        ax.set_yticks(y)
        ax.set_yticklabels([textwrap.shorten(f"{d}: {w}", 70, placeholder="...") for d, w in zip(df["draw"], df["what"])],
                           fontsize=8)
        ax.set_xlabel("the redesign's lead over salami in outcome gain (central lead at the line)")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right", fontsize=8)
        return png(fig)
