"""Stage `study`: one factor study's per-condition results as tables with axis columns, and trend figures.

results/studies/{study}/ gets
- conditions.csv   one row per condition: study_condition, one column per axis
- eval.csv         every network's eval.csv rows
- training.csv     per network: iterations, converged, final loss and task loss, training seconds, and the
                   feature-learning diagnostics (relative weight change, tangent-kernel alignment)
- similarity.csv   every pair's value of linear predictability (full, nullspace) and of each metric
- degeneracy.csv   each condition's degeneracy rows (with their bootstrap intervals)
- trends.csv       what the figures draw: per measure, panel, facet row, axis value and family of
                   networks (or pairs), the mean with its 95% bootstrap interval and the count
- trend_{measure}.pdf|png   one figure per measure (TREND_MEASURES; similarity has a panel per metric):
                   mean against the first axis, one line per family
- tradeoff.csv     INSD's trade-off per condition: each alternative's final task loss and its decoupling
                   (null-space linear predictability new -> earlier networks), and their mean over the
                   condition's alternatives with 95% bootstrap intervals (empty without alternatives);
                   with a `replicates` axis, over the repeated chains (tradeoff_table)
- tradeoff.pdf|png task loss against predictability, one point per condition coloured by its axis values

Each row also carries study_condition, net_id (or net_a, net_b) and the family
columns; the axis columns hold the condition's values (lists as text).
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd

from .. import netids
from ..analysis.statistics import bootstrap_mean
from ..config import format_value
from ..io import read_npz, read_table, write_csv

log = logging.getLogger("altrnn.stages.study")

TREND_COLUMNS = ["measure", "panel", "facet", "x", "family", "mean", "ci_low", "ci_high", "n"]
FEATURE_LEARNING = ("weight_change", "kernel_alignment")  # per network, from diagnostics.csv
DEGENERACY_MEASURES = ("sigma_ood", "mean_dsa_distance", "dsa_null", "dsa_ratio", "mean_weight_distance",
                       "mean_svcca")  # the published measures (analysis.degeneracy), one trend panel each


def _axis_value(value):
    """An axis value as a table cell: numbers stay numbers; lists become their label text (g-1+2 -> "1+2")."""
    return format_value(value) if isinstance(value, (list, tuple)) else value


def _tag(df: pd.DataFrame, condition: dict) -> pd.DataFrame:
    """df with the study_condition and axis columns in front."""
    front = {"study_condition": condition["name"], **{k: _axis_value(v) for k, v in condition["axes"].items()}}
    df = df.copy()
    for i, (k, v) in enumerate(front.items()):
        df.insert(i, k, [v] * len(df))
    return df


def _model_metadata(path) -> dict:
    return json.loads(str(read_npz(path)["metadata"]))


def collect(conditions: list[dict]) -> dict[str, pd.DataFrame]:
    """The study's tables from its conditions' result files.

    conditions: [{name, label, axes, net_ids, metrics, degeneracy}] in config order.
    """
    parts = {k: [] for k in ("eval", "training", "similarity", "degeneracy")}
    for c in conditions:
        label = c["label"]
        for net in c["net_ids"]:
            ev = read_table(netids.net_file(label, net, "eval.csv"))
            ev.insert(0, "net_id", net)
            parts["eval"].append(_tag(ev.assign(family=netids.family_of(net)), c))
            train_log = read_table(netids.net_file(label, net, "train_log.csv"))
            meta = _model_metadata(netids.net_file(label, net, "model.npz"))
            last = train_log.iloc[-1]
            row = {"net_id": net, "family": netids.family_of(net), "iterations": meta["iterations"],
                   "converged": bool(meta["converged"]), "final_loss": last["loss"],
                   "final_task_loss": last["task_loss"],
                   "seconds": read_table(netids.net_file(label, net, "train_time.csv"))["seconds"].iloc[0]}
            diagnostics = read_table(netids.net_file(label, net, "diagnostics.csv")).iloc[0]
            row.update({k: diagnostics[k] for k in FEATURE_LEARNING})
            parts["training"].append(_tag(pd.DataFrame([row]), c))
        lp = read_table(netids.similarity_file(label, "linear_predictability.csv"))
        parts["similarity"].append(_tag(lp.assign(metric="linear_predictability"), c))
        for metric in c["metrics"]:
            table = read_table(netids.similarity_file(label, f"{metric}.csv"))
            parts["similarity"].append(_tag(table.assign(metric=metric, space="full"), c))
        if c["degeneracy"]:
            parts["degeneracy"].append(_tag(read_table(netids.degeneracy_file(label)), c))
    tables = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in parts.items()}
    sim = tables["similarity"]
    sim = sim[sim["net_a"] != sim["net_b"]].reset_index(drop=True)
    front = [col for col in sim.columns if col not in ("net_a", "net_b", "metric", "space", "value")]
    tables["similarity"] = sim[[*front, "metric", "space", "net_a", "net_b", "value"]]
    tables["conditions"] = pd.DataFrame([{"study_condition": c["name"],
                                          **{k: _axis_value(v) for k, v in c["axes"].items()}}
                                         for c in conditions])
    return tables


def _pair_family(a: str, b: str, directed: bool) -> str:
    ga, gb = netids.group_of(a), netids.group_of(b)
    if directed:
        return f"{ga}\u2192{gb}"  # predictor -> predicted
    ga, gb = sorted((ga, gb), key=netids.family_key, reverse=True)
    return f"{ga}\u2013{gb}"


def _unordered(sim: pd.DataFrame) -> pd.DataFrame:
    """One row per unordered pair of networks, the mean of both directions (symmetric metrics)."""
    key = ["study_condition", "metric", "space"]
    lo = np.where(sim["net_a"] < sim["net_b"], sim["net_a"], sim["net_b"])
    hi = np.where(sim["net_a"] < sim["net_b"], sim["net_b"], sim["net_a"])
    return (sim.assign(net_a=lo, net_b=hi).groupby([*key, "net_a", "net_b"], sort=False, as_index=False)
            .agg(value=("value", "mean")))


def trend_table(tables: dict, axes: list[str], n_boot: int = 2000) -> pd.DataFrame:
    """Mean and 95% bootstrap interval of every measure per (panel, facet, axis value, family)."""
    x_axis, others = axes[0], axes[1:]
    cond = tables["conditions"].set_index("study_condition")
    facet = {c: ", ".join(f"{k.split('.')[-1]}={cond.loc[c, k]}" for k in others) for c in cond.index}
    units = []  # (measure, panel, condition, family, value)
    ev = tables["eval"]
    for measure in ("accuracy", "loss"):
        units += [(measure, r.condition, r.study_condition, r.family, getattr(r, measure))
                  for r in ev.itertuples()]
    tr = tables["training"]
    for measure in ("iterations", "final_task_loss"):
        units += [(measure, "", r.study_condition, r.family, getattr(r, measure)) for r in tr.itertuples()]
    for panel in FEATURE_LEARNING:
        units += [("feature_learning", panel, r.study_condition, netids.group_of(r.net_id), getattr(r, panel))
                  for r in tr.itertuples()]
    sim = tables["similarity"]
    if len(sim):
        lp = sim[sim["metric"] == "linear_predictability"]
        units += [("linear_predictability", r.space, r.study_condition, _pair_family(r.net_a, r.net_b, True),
                   r.value) for r in lp.itertuples()]
        other = _unordered(sim[sim["metric"] != "linear_predictability"])
        units += [("similarity", r.metric, r.study_condition, _pair_family(r.net_a, r.net_b, False), r.value)
                  for r in other.itertuples()]
    df = pd.DataFrame(units, columns=["measure", "panel", "study_condition", "family", "value"])
    rows = []
    for (measure, panel, condition, family), group in df.groupby(
            ["measure", "panel", "study_condition", "family"], sort=False):
        mean, low, high = bootstrap_mean(group["value"], n_boot=n_boot)
        rows.append({"measure": measure, "panel": panel, "facet": facet[condition],
                     "x": cond.loc[condition, x_axis], "family": family, "mean": mean, "ci_low": low,
                     "ci_high": high, "n": int(group["value"].notna().sum())})
    deg = tables["degeneracy"]
    deg = deg[deg["measure"].isin(DEGENERACY_MEASURES)] if len(deg) else deg
    for r in deg.itertuples() if len(deg) else []:
        rows.append({"measure": "degeneracy", "panel": f"{r.level}: {r.measure}", "facet": facet[r.study_condition],
                     "x": cond.loc[r.study_condition, x_axis], "family": "std", "mean": r.value,
                     "ci_low": r.ci_low, "ci_high": r.ci_high, "n": r.n_networks})
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


TRADEOFF_COLUMNS = ["net_id", "final_task_loss", "loss_ci_low", "loss_ci_high", "predictability",
                    "predictability_ci_low", "predictability_ci_high", "n", "n_chains"]
ALL_ALTERNATIVES = "alternatives"  # net_id of a condition's row over all its alternatives


def _chain(condition: str, group: pd.DataFrame, lp: pd.Series) -> list[dict]:
    """One INSD chain's alternatives: final task loss and mean null-space predictability to the earlier networks."""
    rows = []
    for r in group.itertuples():
        k = int(netids.ALTERNATIVE.match(r.net_id)["k"])
        missing = [e for e in netids.earlier_ids(k) if (condition, r.net_id, e) not in lp.index]
        if missing:
            raise ValueError(f"condition {condition!r}: no null-space linear predictability from "
                             f"{r.net_id} to {missing} in the similarity table")
        earlier = [lp[(condition, r.net_id, e)] for e in netids.earlier_ids(k)]
        rows.append({"net_id": r.net_id, "final_task_loss": r.final_task_loss,
                     "predictability": float(np.mean(earlier)), "n": len(earlier)})
    return rows


def _summary(net_id: str, values: list[dict], n: int, n_chains: int, n_boot: int) -> dict:
    """Mean of final task loss and predictability over `values` with 95% bootstrap intervals over them."""
    row = {"net_id": net_id, "n": n, "n_chains": n_chains}
    for column, prefix in (("final_task_loss", "loss"), ("predictability", "predictability")):
        mean, low, high = bootstrap_mean([v[column] for v in values], n_boot=n_boot)
        row.update({column: mean, f"{prefix}_ci_low": low, f"{prefix}_ci_high": high})
    return row


def tradeoff_table(tables: dict, n_boot: int = 2000, replicates: str | None = None) -> pd.DataFrame:
    """INSD's trade-off between task loss and decoupling, per condition (axis columns in front).

    Per alternative alt{k} of a chain (ref -> alt1 -> ...): its final task loss (training.csv) and its
    mean null-space linear predictability from alt{k} to each earlier network (similarity.csv rows
    net_a = alt{k}, net_b = ref, alt1..alt{k-1}): low predictability = strongly decoupled; n = the number
    of earlier networks.

    Without `replicates` every condition is one chain: its alt{k} rows are single values (n_chains 1, no
    interval) and its row net_id "alternatives" is the mean over its alternatives with 95% bootstrap
    intervals over them (n = the number of alternatives). With `replicates`, the name of an axis whose
    conditions repeat the chain (e.g. insd.seed), conditions that differ only in it are pooled (the
    replicate column is dropped; study_condition names the pool): alt{k} is the mean over the chains with
    bootstrap intervals over them, and "alternatives" the mean over chains of each chain's mean over its
    alternatives, with intervals over chains, the uncertainty of a repeated INSD run.
    """
    axes = [c for c in tables["conditions"].columns if c != "study_condition"]
    tr = tables["training"]
    alts = tr[tr["net_id"].map(lambda n: bool(netids.ALTERNATIVE.match(n)))] if len(tr) else tr
    pooled = [a for a in axes if a != replicates]
    if alts.empty:
        return pd.DataFrame(columns=["study_condition", *pooled, *TRADEOFF_COLUMNS])
    sim = tables["similarity"]
    lp = sim[(sim["metric"] == "linear_predictability") & (sim["space"] == "nullspace")]
    lp = lp.set_index(["study_condition", "net_a", "net_b"])["value"]
    cond = tables["conditions"].set_index("study_condition")
    chains = {c: _chain(c, group, lp) for c, group in alts.groupby("study_condition", sort=False)}
    pools: dict[tuple, list[str]] = {}  # the other axes' values (or the condition itself) -> its conditions
    for condition in chains:
        key = (condition,) if replicates is None else tuple(cond.at[condition, a] for a in pooled)
        pools.setdefault(key, []).append(condition)
    rows = []
    for members in pools.values():
        front = {a: cond.at[members[0], a] for a in pooled}  # column by column: integers stay integers
        name = members[0] if replicates is None else "_".join(f"{a.split('.')[-1]}-{format_value(v)}"
                                                              for a, v in front.items())
        by_net: dict[str, list[dict]] = {}  # alt{k} -> its rows, one per chain (one value: no interval)
        for m in members:
            for r in chains[m]:
                by_net.setdefault(r["net_id"], []).append(r)
        per_net = [_summary(net, values, values[0]["n"], len(values), n_boot) for net, values in by_net.items()]
        if replicates is None:  # one chain: the interval is over its alternatives
            summary = _summary(ALL_ALTERNATIVES, chains[name], len(by_net), 1, n_boot)
        else:
            chain_means = [{c: float(np.mean([r[c] for r in chains[m]])) for c in ("final_task_loss", "predictability")}
                           for m in members]
            summary = _summary(ALL_ALTERNATIVES, chain_means, len(by_net), len(members), n_boot)
        rows += [{"study_condition": name, **front, **row} for row in [*per_net, summary]]
    return pd.DataFrame(rows, columns=["study_condition", *pooled, *TRADEOFF_COLUMNS])


TREND_MEASURES = ["accuracy", "loss", "iterations", "final_task_loss", "feature_learning", "linear_predictability",
                  "similarity", "degeneracy"]  # one figure each: trend_{measure}.pdf|png


def study_job(study: str, axes: list[str], conditions: list[dict], outdir, replicates: str | None = None):
    """The workflow's study job: tables and trend figures of one study under `outdir`.

    replicates: the axis whose conditions repeat an INSD chain, pooled by the trade-off (tradeoff_table).
    """
    from ..plots import save_figure
    from ..plots.trends import tradeoff_figure, trend_figure

    tables = collect(conditions)
    for name in ("conditions", "eval", "training", "similarity", "degeneracy"):
        write_csv(tables[name], f"{outdir}/{name}.csv")
    trends = trend_table(tables, axes)
    write_csv(trends, f"{outdir}/trends.csv")
    for measure in TREND_MEASURES:
        fig = trend_figure(trends[trends["measure"] == measure], measure, axes[0], study)
        save_figure(fig, f"{outdir}/trend_{measure}.pdf", f"{outdir}/trend_{measure}.png")
    tradeoff = tradeoff_table(tables, replicates=replicates)
    write_csv(tradeoff, f"{outdir}/tradeoff.csv")
    figure = tradeoff_figure(tradeoff, [a for a in axes if a != replicates], study)
    save_figure(figure, f"{outdir}/tradeoff.pdf", f"{outdir}/tradeoff.png")
    log.info("study %s: %d conditions, %d networks, %d trend figures", study, len(conditions),
             len(tables["training"]), len(TREND_MEASURES))


def factor_job(factor: str, studies: dict, pdf, png, csv):
    """The workflow's factor job: one factor's degeneracy trends across its studies (one per task).

    studies: study name -> {"axis": its first axis, "trends": path of its trends.csv}.
    """
    from ..plots import save_figure
    from ..plots.trends import factor_figure

    parts = {}
    for name, s in studies.items():
        trends = read_table(s["trends"]).fillna({"panel": "", "facet": ""})
        std = (trends["measure"] == "degeneracy") | ((trends["measure"] == "feature_learning")
                                                     & (trends["family"] == "std"))
        parts[name] = (s["axis"], trends[std].assign(panel=lambda d: d["panel"].where(
            d["measure"] == "degeneracy", "feature learning: " + d["panel"])))
    table = pd.concat([df.assign(study=name, axis=axis) for name, (axis, df) in parts.items()], ignore_index=True)
    write_csv(table[["study", "axis", *TREND_COLUMNS]], csv)
    save_figure(factor_figure(parts, factor), pdf, png)
    log.info("factor %s: %d studies, %d degeneracy values", factor, len(studies), len(table))
