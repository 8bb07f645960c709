"""A diagram laid out by hand keeps its layout: when every block of a page has a `pos`, `render`
pins each box there (Graphviz `neato -n2`) instead of letting `dot` place it.

Page positions are in the page's own units, y growing downwards (as diagram tools draw); the
boxes' sizes come from their labels, so one uniform scale is chosen, the smallest at which no
two boxes overlap (each pair needs to be apart along one axis by half their sizes plus a gap),
keeping every relative position as drawn. Edges are routed by neato around the pinned boxes.
"""
from __future__ import annotations

import json

import numpy as np

GAP = 24.0            # points between two boxes
MAX_PINNED = 2000     # pages with more blocks are laid out by dot (pairwise spacing is O(n^2))


def positions(page) -> dict | None:
    """{block id: (x, y)} when every block of the page has a position, else None."""
    blocks = page.scope.blocks
    if not blocks or len(blocks) > MAX_PINNED or any(b.pos is None for b in blocks.values()):
        return None
    return {bid: (float(b.pos[0]), float(b.pos[1])) for bid, b in blocks.items()}


def sizes(g) -> dict:
    """{node name: (width, height)} in points, from a `dot -Tjson` layout of graph `g`."""
    doc = json.loads(g.pipe(format="json", engine="dot").decode("utf-8"))
    out = {}
    for obj in doc.get("objects", []):
        if "width" in obj and "height" in obj and "nodes" not in obj:
            out[obj["name"]] = (float(obj["width"]) * 72, float(obj["height"]) * 72)
    return out


def scale(pos: dict, size: dict) -> float:
    """The smallest scale (points per page unit) at which no two boxes overlap, at least 1."""
    ids = [b for b in pos if b in size]
    if len(ids) < 2:
        return 1.0
    xy = np.array([pos[b] for b in ids])
    wh = np.array([size[b] for b in ids])
    dx = np.abs(xy[:, None, 0] - xy[None, :, 0])
    dy = np.abs(xy[:, None, 1] - xy[None, :, 1])
    need_x = (wh[:, None, 0] + wh[None, :, 0]) / 2 + GAP
    need_y = (wh[:, None, 1] + wh[None, :, 1]) / 2 + GAP
    with np.errstate(divide="ignore", invalid="ignore"):
        sx = np.where(dx > 0, need_x / dx, np.inf)
        sy = np.where(dy > 0, need_y / dy, np.inf)
    pair = np.minimum(sx, sy)              # apart along either axis is enough
    pair = pair[np.isfinite(pair)]         # two boxes at one position cannot be separated
    return float(max(1.0, pair.max())) if pair.size else 1.0


def pin(g, page) -> bool:
    """Pin every node of `g` at its block's position (scaled so boxes do not overlap) and make
    `g` a neato graph; False (g untouched) when the page does not give every block a position."""
    pos = positions(page)
    if pos is None:
        return False
    s = scale(pos, sizes(g))
    for bid, (x, y) in pos.items():
        g.node(bid, pos=f"{x * s:.2f},{-y * s:.2f}!")
    g.engine = "neato"
    g.graph_attr.update(splines="true", overlap="true")
    return True
