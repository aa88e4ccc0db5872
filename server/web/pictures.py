"""The pictures of the landing page and the plan pages, each from one SPARQL query shown under it: tile map, plan
diagram, bar charts."""

import re

from markupsafe import Markup

from server.web import pages

PREFIXES = """PREFIX pkg: <https://policykg.example/def/>
PREFIX schema: <https://schema.org/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
# Tasks per province-level unit: tasks of the task areas directed at it, and tasks whose text names it; {plan}
# picks the plans counted (one plan's VALUES, or every pkg:Plan).
TILES = PREFIXES + """SELECT ?region ?code ?macro (COUNT(DISTINCT ?task) AS ?tasks) WHERE {{
  ?region pkg:adminLevel pkg:ProvinceLevel ; pkg:divisionCode ?code .
  FILTER(STRENDS(?code, "0000"))
  OPTIONAL {{ ?macro a pkg:MacroRegion ; schema:containsPlace ?region }}
  OPTIONAL {{ {plan} ?plan pkg:taskArea ?area .
             {{ ?area pkg:targetsRegion ?region ; pkg:task ?task }}
             UNION {{ ?area pkg:task ?task . ?task pkg:mentions ?region }} }}
}} GROUP BY ?region ?code ?macro ORDER BY ?code"""
# One plan's structure: plan → task area → task, and the regions each area is directed at.
DIAGRAM = PREFIXES + """SELECT ?plan ?area ?n ?headline ?task ?region WHERE {{
  VALUES ?plan {{ {plan} }}
  ?plan pkg:taskArea ?area .
  ?area pkg:ordinal ?n .
  OPTIONAL {{ ?area pkg:headline ?headline }}
  OPTIONAL {{ ?area pkg:task ?task }}
  OPTIONAL {{ ?area pkg:targetsRegion ?region }}
}} ORDER BY ?n ?task"""
# Tasks per task area of one plan (its themes).
THEMES = PREFIXES + """SELECT ?area ?n (COUNT(DISTINCT ?task) AS ?tasks) WHERE {{
  VALUES ?plan {{ {plan} }}
  ?plan pkg:taskArea ?area . ?area pkg:ordinal ?n .
  OPTIONAL {{ ?area pkg:task ?task }}
}} GROUP BY ?area ?n ORDER BY ?n"""
EVERY_PLAN = "?plan a pkg:Plan ."

# Tile positions (column, row): one square per province-level unit, placed roughly by geography.
LAYOUT = {
    "230000": (8, 0), "650000": (1, 2), "150000": (5, 1), "110000": (6, 1), "210000": (7, 1), "220000": (8, 1),
    "630000": (2, 2), "620000": (3, 2), "640000": (4, 2), "140000": (5, 2), "130000": (6, 2), "120000": (7, 2),
    "540000": (2, 3), "510000": (3, 3), "610000": (4, 3), "410000": (5, 3), "370000": (6, 3),
    "530000": (2, 4), "520000": (3, 4), "500000": (4, 4), "420000": (5, 4), "340000": (6, 4), "320000": (7, 4),
    "310000": (8, 4), "450000": (3, 5), "430000": (4, 5), "360000": (5, 5), "350000": (6, 5), "330000": (7, 5),
    "440000": (4, 6), "710000": (7, 6), "460000": (3, 7), "820000": (4, 7), "810000": (5, 7),
}
TILE, GAP = 64, 4
FIT = Markup(' textLength="58" lengthAdjust="spacingAndGlyphs"')  # long English names squeezed into the tile
_SUFFIX = re.compile(r"(维吾尔|回族|壮族)?自治区$|特别行政区$|[省市]$|\s+(Uygur|Uyghur|Hui|Zhuang)?\s*(Autonomous Region|"
                     r"Special Administrative Region|Province|Municipality|SAR)$")
# Sequential blues, light to dark; the dark ones carry white text (contrast ≥ 4.5:1 either way).
SHADES = ("#f1f5fb", "#c6dbef", "#6baed6", "#2171b5", "#08306b")


def _short(name: str) -> str:
    """新疆维吾尔自治区 → 新疆, Guangxi Zhuang Autonomous Region → Guangxi: what fits on a tile."""
    name = _SUFFIX.sub("", re.sub(r"\s*\(.*?\)", "", name)).strip()
    return name if len(name) <= 14 else name[:13] + "…"


def _shade(count: int, top: int) -> int:
    if count == 0:
        return 0
    return 1 + min(3, (count * 4 - 1) // max(top, 1))


def tiles(lang: str, plan: str | None = None) -> dict:
    """The tile map of one plan's tasks (of every plan's when `plan` is None) as inline SVG linking to region pages,
    plus the rows it was drawn from."""
    text = TILES.format(plan=f"VALUES ?plan {{ <{plan}> }}" if plan else EVERY_PLAN)
    rows = pages.select(text)
    units: dict[str, dict] = {}
    for row in rows:
        code = row["code"].value
        unit = units.setdefault(code, {"iri": row["region"].value, "tasks": int(row["tasks"].value), "macro": set()})
        if "macro" in row:
            unit["macro"].add(row["macro"].value.rsplit("/", 1)[1])
    labels = pages.labels_for({u["iri"] for u in units.values()}, lang)
    top = max((u["tasks"] for u in units.values()), default=0)
    parts = []
    for code, (col, row) in LAYOUT.items():
        unit = units.get(code)
        if unit is None:
            continue
        x, y = col * (TILE + GAP) + GAP, row * (TILE + GAP) + GAP
        shade = _shade(unit["tasks"], top)
        name = labels.get(unit["iri"], code)
        short = _short(name)
        outline = "west" if "western-china" in unit["macro"] else ("east" if "eastern-china" in unit["macro"] else "")
        ink = "#ffffff" if shade >= 3 else "#0b1f33"
        parts.append(Markup(
            '<a href="{href}" class="tile {outline}" data-code="{code}"><title>{name}: {n}</title>'
            '<rect x="{x}" y="{y}" width="{w}" height="{w}" rx="6" fill="{fill}"/>'
            '<text x="{tx}" y="{ty}" fill="{ink}" class="tile-name"{fit}>{short}</text>'
            '<text x="{tx}" y="{ny}" fill="{ink}" class="tile-count">{n}</text></a>').format(
            href=pages.local(unit["iri"]) or unit["iri"], outline=outline, code=code, name=name, n=unit["tasks"],
            x=x, y=y, w=TILE, fill=SHADES[shade], tx=x + TILE / 2, ty=y + 26, ny=y + 48, ink=ink,
            short=short, fit=FIT if len(short) > 7 else ""))
    width, height = 9 * (TILE + GAP) + GAP, 8 * (TILE + GAP) + GAP
    svg = Markup('<svg class="tilemap" viewBox="0 0 {} {}" role="img" aria-labelledby="map-title">{}</svg>').format(
        width, height, Markup("").join(parts))
    listed = sorted(((labels.get(u["iri"], c), u["tasks"], pages.local(u["iri"])) for c, u in units.items()
                     if u["tasks"]), key=lambda r: -r[1])
    return {"svg": svg, "query": text, "rows": listed, "shades": SHADES}


def diagram(lang: str, plan: str) -> dict:
    """One plan → its task areas → tasks → regions as nested data for a server-side HTML diagram."""
    text = DIAGRAM.format(plan=f"<{plan}>")
    rows = pages.select(text)
    areas: dict[str, dict] = {}
    for row in rows:
        area = areas.setdefault(row["area"].value, {"n": int(row["n"].value), "tasks": [], "regions": [],
                                                     "headline": row["headline"].value if "headline" in row else ""})
        for key, field in (("task", "tasks"), ("region", "regions")):
            if key in row and row[key].value not in area[field]:
                area[field].append(row[key].value)
    iris = {plan, *areas} | {i for a in areas.values() for i in a["tasks"] + a["regions"]}
    labels = pages.labels_for(iris, lang)
    ordered = sorted(areas.items(), key=lambda kv: kv[1]["n"])
    for _, area in ordered:
        area["tasks"].sort(key=lambda iri: [int(x) if x.isdigit() else 0 for x in iri.rsplit("/", 1)[1].split(".")])
    return {"plan": plan, "areas": ordered, "labels": labels, "query": text}


def charts(lang: str, tiles_drawn: dict, plan: str | None = None) -> dict:
    """Bar-chart data: tasks per region (from the tile query) and, for one plan, tasks per task area."""
    if plan is None:
        return {"regions": tiles_drawn["rows"], "regions_query": tiles_drawn["query"], "themes": [], "themes_query": ""}
    text = THEMES.format(plan=f"<{plan}>")
    rows = pages.select(text)
    labels = pages.labels_for({r["area"].value for r in rows}, lang)
    themes = [(labels.get(r["area"].value, r["n"].value), int(r["tasks"].value), pages.local(r["area"].value))
              for r in rows]
    return {"regions": tiles_drawn["rows"], "regions_query": tiles_drawn["query"], "themes": themes,
            "themes_query": text}
