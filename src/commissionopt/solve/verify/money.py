"""Independent checks of money: direct spend, who pays each service, each role's staff and the
overheads, ring fences, each stream's limit, where overspend may show, and reserves."""
from __future__ import annotations

from collections import defaultdict

from .context import OVERHEADS, STAFF, _Ctx, _costs, _flag, _gbp, _idle, _num, _pooled, _units

def _check_direct_spend(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    rows = ctx.keyed("units", ("service", "mechanism", "year"), ("units", "people_served", "direct_spend"))
    if rows is None:
        return out
    idle = _idle(ctx)
    for (s, m, y), v in rows.items():
        if (s, m, y) not in p["price"]:
            continue
        spare = idle.get((s, m, y), 0.0)
        if spare < -ctx.tol or (spare > ctx.tol and not p["current"].get((s, m), False)):
            out.append(f"idle_units: {s}/{m} year {y} has {spare:,.2f} idle units: only a current option "
                       f"may carry paid-for units that serve nobody, never below 0")
        expected = p["price"][(s, m, y)] * (_num(v["units"]) + spare)
        if ctx.money_off(_num(v["direct_spend"]), expected):
            out.append(f"direct_spend: {s}/{m} year {y} reports {_gbp(_num(v['direct_spend']))}, "
                       f"(1 + transaction_rate) x unit_cost x (units + idle_units) = {_gbp(expected)}")
    return out


def _funding_rows(ctx: _Ctx) -> list[tuple] | None:
    """[(stream, service, role, year, amount)] of the funding table (years outside 1..E reported)."""
    if "funding_rows" in ctx._cache:
        return ctx._cache["funding_rows"]
    df = ctx.table("funding")
    out = None
    if df is not None:
        out = []
        roles = df["role"] if "role" in df.columns else [""] * len(df)
        for f, s, rl, y, a in zip(df["stream"], df["service"], roles, df["year"], df["amount"]):
            y = int(_num(y, -1))
            if y not in ctx.years:
                ctx.problems.append(f"tables: 'funding' row ({f}, {s}, {y}) has a year outside 1..{ctx.E}")
                continue
            out.append((str(f), str(s), "" if rl is None else str(rl), y, _num(a)))
    ctx._cache["funding_rows"] = out
    return out


def _check_service_funding(ctx: _Ctx) -> list[str]:
    """Per service and year: the funding rows pay exactly its direct spend."""
    p, out = ctx.p, []
    rows, units = _funding_rows(ctx), _units(ctx)
    if rows is None or units is None:
        return out
    idle = _idle(ctx)
    paid = defaultdict(float)
    for f, s, _, y, a in rows:
        paid[(s, y)] += a
    for s in p["services"]:
        for y in ctx.years:
            direct = sum(p["price"][(*o, y)] * (units[(*o, y)] + idle[(*o, y)]) for o in p["options_of"][s])
            if ctx.money_off(paid[(s, y)], direct):
                out.append(f"service_funding: {s} year {y} is funded {_gbp(paid[(s, y)])} but its direct spend "
                           f"is {_gbp(direct)}")
    for (s, y), a in paid.items():
        if s not in (OVERHEADS, STAFF) and s not in p["service_need"] and ctx.money_over(abs(a), 0.0):
            out.append(f"service_funding: funding rows pay {_gbp(a)} in year {y} to '{s}', which is not a service")
    return out


def _check_staff_funding(ctx: _Ctx) -> list[str]:
    """staff_funding: each role's staff, agency and redundancy costs are paid in full, by streams that may pay them."""
    p, out = ctx.p, []
    rows, costs = _funding_rows(ctx), _costs(ctx)
    if rows is None or costs is None:
        return out
    paid = defaultdict(float)
    for f, s, rl, y, a in rows:
        if s != STAFF:
            continue
        paid[(rl, y)] += a
        if rl not in p["staff_payers"]:
            if ctx.money_over(abs(a), 0.0):
                out.append(f"staff_funding: {f} pays {_gbp(a)} in year {y} to staff of '{rl}', which is not a role")
        elif f in p["base_amount"] and f not in p["staff_payers"][rl] and ctx.money_over(abs(a), 0.0):
            out.append(f"staff_funding: {f} pays {_gbp(a)} of {rl}'s staff in year {y}, but neither pays overheads "
                       f"nor covers a service {rl} works for")
    for rl in p["roles"]:
        for y in ctx.years:
            if ctx.money_off(paid[(rl, y)], costs["role"][(rl, y)]):
                out.append(f"staff_funding: {rl} year {y} staff costs {_gbp(costs['role'][(rl, y)])} are funded "
                           f"{_gbp(paid[(rl, y)])}")
    return out


def _check_ring_fence(ctx: _Ctx) -> list[str]:
    """Each funding row comes from a stream that may pay that service (or overheads, or staff)."""
    p, out = ctx.p, []
    rows = _funding_rows(ctx)
    if rows is None:
        return out
    pooled = _pooled(ctx)
    for f, s, _, y, a in rows:
        if a < -ctx.money_tol:
            out.append(f"ring_fence: {f} pays a negative {_gbp(a)} to {s} in year {y}")
        if not ctx.money_over(abs(a), 0.0):
            continue
        if f not in p["base_amount"]:
            out.append(f"ring_fence: {_gbp(a)} to {s} in year {y} comes from '{f}', which is not a stream")
            continue
        if s == OVERHEADS:
            if not p["pays_overheads"][f]:
                out.append(f"ring_fence: {f} pays {_gbp(a)} of overheads in year {y} but may not pay overheads")
            continue
        if s == STAFF or s not in p["service_need"]:
            continue  # staff: staff_funding; not a service: service_funding
        if s in p["pays"][f]:
            continue
        if s in p["pays_pooled"][f]:
            if not pooled[f]:
                out.append(f"ring_fence: {f} pays {_gbp(a)} to {s} in year {y} through its pooled scope "
                           f"but is not pooled")
            continue
        out.append(f"ring_fence: {f} pays {_gbp(a)} to {s} in year {y}, outside its scope")
    df = ctx.table("pooling")
    if df is not None:
        for f, v in zip(df["stream"], df["pooled"]):
            if _flag(v) and not p["poolable"].get(f, False):
                out.append(f"ring_fence: {f} is reported pooled but is not poolable")
        for f, v, c in zip(df["stream"], df["pooled"], df["pooling_cost"]):
            if f in p["pooling_cost"]:
                full = p["pooling_cost"][f]
                # the column may hold the stream's yearly pooling cost or the cost the plan pays
                if ctx.money_off(_num(c), full) and ctx.money_off(_num(c), full * _flag(v)):
                    out.append(f"pooling: {f} reports pooling_cost {_gbp(_num(c))}, the instance says {_gbp(full)}")
    return out


def _check_overheads_funding(ctx: _Ctx) -> list[str]:
    out = []
    rows, costs = _funding_rows(ctx), _costs(ctx)
    if rows is None or costs is None:
        return out
    paid = defaultdict(float)
    for f, s, _, y, a in rows:
        if s == OVERHEADS:
            paid[y] += a
    for y in ctx.years:
        expected = sum(costs[k][y] for k in ("buildings", "setup", "pooling"))
        if ctx.money_off(paid[y], expected):
            out.append(f"overheads_funding: year {y} overheads funded {_gbp(paid[y])} but buildings "
                       f"{_gbp(costs['buildings'][y])} + setup {_gbp(costs['setup'][y])} + pooling "
                       f"{_gbp(costs['pooling'][y])} = {_gbp(expected)}")
    return out


def _check_stream_limit(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    rows = _funding_rows(ctx)
    st = ctx.keyed("streams", ("stream", "year"), ("available", "spent", "reserves_drawn", "overspend"))
    if rows is None or st is None:
        return out
    spent = defaultdict(float)
    for f, s, _, y, a in rows:
        spent[(f, y)] += a
    for f in p["streams"]:
        for y in ctx.years:
            if (f, y) not in st:
                out.append(f"stream_limit: the streams table has no row for {f} year {y}")
                continue
            v = st[(f, y)]
            avail = (p["amount"][(f, y)] * (1 - (ctx.cut.get(y, 0.0) if p["subject_to_cut"][f] else 0.0))
                     + ctx.extra_money.get((f, y), 0.0))
            drawn, over = _num(v["reserves_drawn"]), _num(v["overspend"])
            if ctx.money_off(_num(v["available"]), avail):
                out.append(f"stream_limit: {f} year {y} reports available {_gbp(_num(v['available']))}, "
                           f"its money after the cut is {_gbp(avail)}")
            if ctx.money_off(_num(v["spent"]), spent[(f, y)]):
                out.append(f"stream_limit: {f} year {y} reports spent {_gbp(_num(v['spent']))}, "
                           f"its funding rows sum to {_gbp(spent[(f, y)])}")
            if ctx.money_over(spent[(f, y)], avail + drawn + over):
                out.append(f"stream_limit: {f} year {y} spends {_gbp(spent[(f, y)])} > available {_gbp(avail)} "
                           f"+ reserves {_gbp(drawn)} + overspend {_gbp(over)}")
            if drawn < -ctx.money_tol or over < -ctx.money_tol:
                out.append(f"stream_limit: {f} year {y} has negative reserves_drawn {_gbp(drawn)} "
                           f"or overspend {_gbp(over)}")
            if f not in p["overspend_streams"] and ctx.money_over(over, 0.0):
                out.append(f"overspend: {f} year {y} shows {_gbp(over)} of overspend, but it was not cut and "
                           f"the streams that were may pay what it pays")
            if not p["pays_overheads"][f] and ctx.money_over(drawn, 0.0):
                out.append(f"reserves: {f} year {y} draws {_gbp(drawn)} of reserves but is not an overheads stream")
            if y >= ctx.H and ctx.money_over(drawn, 0.0):
                out.append(f"sustainable: {f} draws {_gbp(drawn)} of reserves in year {y}: from year {ctx.H} on "
                           f"a plan lives within its money")
            cap = ctx.draw_cap.get((f, y)) if ctx.draw_cap is not None else None
            if ctx.draw_cap is not None and ctx.money_over(drawn, cap or 0.0):
                out.append(f"reserves: {f} year {y} draws {_gbp(drawn)}, above the {_gbp(cap or 0.0)} allowed")
    for (f, y) in st:
        if f not in p["base_amount"]:
            out.append(f"stream_limit: the streams table has a row for '{f}', which is not a stream")
    return out


def _check_reserves(ctx: _Ctx) -> list[str]:
    p, out = ctx.p, []
    st = ctx.keyed("streams", ("stream", "year"), ("available", "spent", "reserves_drawn", "overspend"))
    costs = _costs(ctx)
    if st is None:
        return out
    res = p["reserves"]
    flexible = bool(res.get("flexible_capital_receipts", False))
    cap = max(0.0, res.get("opening", 0.0) - res.get("minimum", 0.0))
    drawn_y = {y: sum(_num(v["reserves_drawn"]) for (f, t), v in st.items() if t == y) for y in ctx.years}
    receipts_y = {y: (costs["receipts"][y] if (costs is not None and flexible) else 0.0) for y in ctx.years}
    cum_drawn = cum_receipts = 0.0
    for y in ctx.years:
        cum_drawn += drawn_y[y]
        cum_receipts += receipts_y[y]
        if ctx.money_over(cum_drawn, cap + cum_receipts):
            extra = f" + capital receipts {_gbp(cum_receipts)}" if flexible else ""
            out.append(f"reserves: by year {y} {_gbp(cum_drawn)} drawn > opening {_gbp(res.get('opening', 0.0))} "
                       f"- minimum {_gbp(res.get('minimum', 0.0))}{extra}")
    rt = ctx.keyed("reserves", ("year",), ("drawn", "receipts", "available_cumulative"))
    if rt is not None:
        for y in ctx.years:
            if (y,) not in rt:
                out.append(f"reserves: the reserves table has no row for year {y}")
                continue
            v = rt[(y,)]
            if ctx.money_off(_num(v["drawn"]), drawn_y[y]):
                out.append(f"reserves: year {y} reports drawn {_gbp(_num(v['drawn']))}, the streams draw "
                           f"{_gbp(drawn_y[y])}")
            if costs is not None and ctx.money_off(_num(v["receipts"]), receipts_y[y]):
                out.append(f"reserves: year {y} reports receipts {_gbp(_num(v['receipts']))}, expected "
                           f"{_gbp(receipts_y[y])}")
        # available_cumulative: what is left to draw after year y (opening - minimum + receipts - drawn)
        cum_drawn = cum_receipts = 0.0
        for y in ctx.years:
            cum_drawn += drawn_y[y]
            cum_receipts += receipts_y[y]
            left = cap + cum_receipts - cum_drawn
            if (y,) in rt and costs is not None and ctx.money_off(_num(rt[(y,)]["available_cumulative"]), left):
                out.append(f"reserves: year {y} reports available_cumulative "
                           f"{_gbp(_num(rt[(y,)]['available_cumulative']))}, opening - minimum + receipts - drawn "
                           f"to date = {_gbp(left)}")
    return out

