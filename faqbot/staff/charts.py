"""Geometry of the server-rendered SVG charts (no chart library, no inline script or style: CSP stays strict).

Templates draw what these functions compute; every chart also has its numbers in a table for screen readers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 220
LEFT = 40  # room for the value axis labels
BOTTOM = 28  # room for the day labels
TOP = 10


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    title: str
    css: str = ""


@dataclass(frozen=True)
class Tick:
    pos: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    rects: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    baseline: float
    empty: bool


def nice_max(value: float) -> int:
    """Round the axis top up to 1, 2 or 5 × 10^n so the gridlines read well."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return int(step * magnitude) if step * magnitude >= 1 else 1
    return int(10 * magnitude)


def _x_ticks(labels: list[str], slot: float) -> list[Tick]:
    if not labels:
        return []
    # At most ~8 labels whatever the period: first, last and evenly spaced ones between.
    # Counted back from the last day (today), so today is labelled and no two labels collide.
    every = max(1, math.ceil(len(labels) / 8))
    picked = range(len(labels) - 1, -1, -every)
    return [Tick(round(LEFT + slot * (i + 0.5), 2), labels[i]) for i in sorted(picked)]


def stacked_bars(labels: list[str], stacks: list[list[tuple[str, int]]], title_of) -> Chart:
    """Vertical bars, one per label, each a stack of (series, value); `title_of(label, series, value)` tooltips."""
    plot_height = HEIGHT - TOP - BOTTOM
    totals = [sum(value for _, value in stack) for stack in stacks]
    top = nice_max(max(totals, default=0))
    slot = (WIDTH - LEFT) / max(1, len(labels))
    bar_width = max(1.0, slot * 0.75)
    rects = []
    for i, (label, stack) in enumerate(zip(labels, stacks)):
        y = TOP + plot_height
        for series, value in stack:
            if value <= 0:
                continue
            h = plot_height * value / top
            y -= h
            rects.append(Rect(round(LEFT + slot * i + (slot - bar_width) / 2, 2), round(y, 2), round(bar_width, 2), round(h, 2), title_of(label, series, value), series))
    y_ticks = [Tick(round(TOP + plot_height * (1 - f), 2), f"{top * f:g}".replace(".", ",")) for f in (0, 0.5, 1)]
    return Chart(WIDTH, HEIGHT, rects, y_ticks, _x_ticks(labels, slot), TOP + plot_height, not any(totals))


def bars(labels: list[str], values: list[int], title_of) -> Chart:
    return stacked_bars(labels, [[("", value)] for value in values], lambda label, _series, value: title_of(label, value))


def share(value: float, maximum: float) -> float:
    """Width (0–100) of an inline bar in a table cell."""
    return 0.0 if maximum <= 0 else round(100 * value / maximum, 1)
