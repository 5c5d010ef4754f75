"""The report's charts, as PNG data for an ``<img>`` (rendered with the course's Chinese font)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import kamlib.plots

LABELLED_ROWS = 60  # a heat map with more learners than this drops the names and the numbers


def png(fig: Figure, dpi: int = 90) -> str:
    """The figure as base64 PNG, compressed at zlib's fastest level: a large cohort's heat maps are
    tall images, which the default level takes twice as long to compress for a third fewer bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float, rows: int = 1) -> tuple[Figure, list]:
    fig = kamlib.plots.ChartFigure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(rows, 1, squeeze=False)[:, 0]
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes)


@kamlib.plots.with_chinese_font
def distribution_chart(shares: dict[str, pd.Series]) -> Figure:
    """A histogram of score shares (0..1) per assignment title."""
    fig, axes = _figure(7, 1.9 * len(shares) + 0.6, rows=max(1, len(shares)))
    bins = np.linspace(0, 100, 11)
    for ax, (title, values) in zip(axes, shares.items()):
        values = values.dropna() * 100
        ax.hist(values.clip(0, 100), bins=bins, color=kamlib.plots.BAR_COLOR, edgecolor="white")
        mean = f"平均 {values.mean():.0f}%" if len(values) else "尚无已评分的提交"
        ax.set_title(f"{title}（{len(values)} 人，{mean}）", fontsize=10, loc="left")
        ax.set_xlim(0, 100)
        ax.set_ylabel("人数")
        ax.yaxis.get_major_locator().set_params(integer=True)
    axes[-1].set_xlabel("得分率（%）")
    return fig


@kamlib.plots.with_chinese_font
def facility_chart(labels: list[str], facility: pd.Series, low: float, high: float) -> Figure:
    """Horizontal bars of question facility (given hardest first), the flag thresholds dashed."""
    fig, (ax,) = _figure(7, 0.3 * len(labels) + 1.2)
    y = np.arange(len(labels))
    values = facility.to_numpy(dtype=float) * 100
    ax.barh(y, np.nan_to_num(values), color=kamlib.plots.BAR_COLOR)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 105)
    for x in (low, high):
        ax.axvline(x * 100, color=kamlib.plots.LINE_COLOR, linestyle="--", linewidth=1)
    ax.set_xlabel("难度系数：平均得分 ÷ 分值（%）")
    for yi, value in zip(y, values):
        ax.text(
            0 if np.isnan(value) else value + 1,
            yi,
            "—" if np.isnan(value) else f"{value:.0f}%",
            va="center",
            fontsize=8,
        )
    return fig


@kamlib.plots.with_chinese_font
def trend_chart(titles: list[str], means: pd.Series) -> Figure:
    """The cohort's mean share per assignment, in order."""
    fig, (ax,) = _figure(7, 2.8)
    x = np.arange(len(titles))
    values = means.to_numpy(dtype=float) * 100
    ax.plot(x, values, marker="o", color=kamlib.plots.BAR_COLOR)
    for xi, value in zip(x, values):
        if not np.isnan(value):
            ax.annotate(
                f"{value:.0f}%", (xi, value), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=9
            )
    ax.set_xticks(
        x, titles, fontsize=8, rotation=20 if len(titles) > 3 else 0, ha="right" if len(titles) > 3 else "center"
    )
    ax.set_ylim(0, 110)
    ax.set_ylabel("平均得分率（%）")
    return fig


@kamlib.plots.with_chinese_font
def heatmap(table: pd.DataFrame, columns: list[str], empty: pd.DataFrame | None = None) -> Figure:
    """Learners × columns heat map of shares (0..1); ``empty`` gives the text of cells without
    a value (e.g. “未交”). Large cohorts are drawn without names and numbers."""
    labelled = len(table) <= LABELLED_ROWS
    fig, (ax,) = _figure(max(5.0, 0.9 * len(columns) + 2.5), (0.3 if labelled else 0.08) * len(table) + 1.8)
    values = table.to_numpy(dtype=float) * 100
    image = ax.imshow(
        np.ma.masked_invalid(values), cmap="RdYlGn", vmin=0, vmax=100, aspect="auto", interpolation="nearest"
    )
    ax.set_facecolor("#d9d9d9")
    ax.set_xticks(
        range(len(columns)),
        columns,
        fontsize=8,
        rotation=30 if len(columns) > 6 else 0,
        ha="right" if len(columns) > 6 else "center",
    )
    if labelled:
        ax.set_yticks(range(len(table)), table.index, fontsize=8)
        for (i, j), value in np.ndenumerate(values):
            text = f"{value:.0f}" if not np.isnan(value) else ("" if empty is None else str(empty.iat[i, j]))
            dark = not np.isnan(value) and (value < 25 or value > 85)
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="white" if dark else "black")
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"学员（按编号排列，共 {len(table)} 人）")
    fig.colorbar(image, ax=ax, label="得分率（%）", shrink=0.8 if labelled else 0.3)
    return fig
