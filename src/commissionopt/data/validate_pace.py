"""Checks of the pace of change and of the effects' shape: growth and decline limits, exit rates,
option shares of a service, transition channels, closure lead times."""
from __future__ import annotations

import math

from .instance import Instance

CHANNELS = ("escalation", "persistence", "none")
TOLERANCE = 1e-9


def _given(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def check_option_shares(inst: Instance, r) -> None:
    """The max_shares of a service's options add up to at least 1 (max_share is a share of the service's units)."""
    op = inst["options"]
    for service, group in op.groupby("service"):
        total = float(group["max_share"].sum())
        if total < 1 - TOLERANCE:
            r.row("options", group.index[0], "max_share", round(total, 9),
                  f"max_shares of {service}'s options adding up to at least 1: each is a share of the service's "
                  f"units, so together they allow only {total:g} of them (the service could deliver nothing)")


def check_channels(inst: Instance, r) -> None:
    """A transition's channel is escalation, persistence, none or empty."""
    tr = inst["transitions"]
    for i, ch in tr["channel"].items():
        if ch and ch not in CHANNELS:
            r.row("transitions", i, "channel", ch, f"one of {', '.join(CHANNELS)}, or empty")


def warn_pace(inst: Instance, r) -> None:
    """Warning: the instance sets no pace limit at all; a service with no base units, a growth limit and no ramp_units cannot start; an exit_rate on an option that is not current is not used; a building that can only close after the horizon."""
    sv = inst["services"]
    pace = inst.meta.get("pace") or {}
    growth_default, decline_default = pace.get("max_growth"), pace.get("max_decline")
    if not (_given(growth_default) or _given(decline_default)
            or sv["max_growth"].map(_given).any() or sv["max_decline"].map(_given).any()):
        r.whole("services", "max_growth", "(none)",
                "pace limits (services.csv max_growth / max_decline, or instance.yaml pace): without them every "
                "service can change by any amount in a year", severity="warning")
    for i in sv.index:
        g = sv.at[i, "max_growth"] if _given(sv.at[i, "max_growth"]) else growth_default
        if _given(g) and sv.at[i, "base_units"] <= 0 and sv.at[i, "ramp_units"] <= 0:
            r.row("services", i, "ramp_units", sv.at[i, "ramp_units"],
                  f"ramp_units above 0: {sv.at[i, 'service']} has no base units and a growth limit, so it can never grow",
                  severity="warning")
    op = inst["options"]
    for i in op.index:
        if _given(op.at[i, "exit_rate"]) and not op.at[i, "current"]:
            r.row("options", i, "exit_rate", op.at[i, "exit_rate"],
                  "an exit_rate only on the current option (it limits how fast people leave it)", severity="warning")
    horizon = inst.meta.get("horizon_years")
    bd = inst["buildings"]
    if isinstance(horizon, int):
        for i in bd.index:
            if bd.at[i, "can_close"] and bd.at[i, "closure_lead_years"] >= horizon:
                r.row("buildings", i, "closure_lead_years", bd.at[i, "closure_lead_years"],
                      f"fewer than horizon_years ({horizon}): the building can close only after the decisions end",
                      severity="warning")
