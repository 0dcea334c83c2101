"""Charts drawn on the server as SVG markup (no CDN, no script): monthly bars, progress bars, the
schematic coverage map. Every label is escaped; the result is marked safe for templates."""

from markupsafe import Markup, escape

W, H, PAD = 640, 220, 36


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
            f'<text x="{x + step * 0.35:.1f}" y="{H - PAD + 14}" font-size="11" text-anchor="middle">'
            f"{escape(label[-2:])}</text>"
        )
        if value:
            parts.append(
                f'<text x="{x + step * 0.35:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{value:g}</text>'
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
