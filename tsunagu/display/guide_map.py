"""The public guide's map (通いの場ガイド): the places a resident's search found, on the school
districts' outlines, from display/maps.py's layers and its privacy rule.

A place at a known venue other than a private home is a point named on the map (the query
gives it coordinates); the places held in private homes (個人宅) have none from the query and
are gathered, as maps.place_points does for any viewer, into one point per school district
at the district's representative point, with their number and kinds only. No figure of a
school district (population, counts of places that are not published) is drawn.
"""

from __future__ import annotations

import polars as pl

from tsunagu.display import maps

OUTLINE_FILL = "#FFFFFF"
POINT_RADIUS_M = 90.0


def _tip(r: dict) -> str:
    parts = [r["category"], f"{r['school_district']}学区"]
    when = " ".join(p for p in (r["weekdays"], r["hours"]) if p)
    return "\n".join([" ".join(parts), *([when] if when else [])])


def public_map(found: pl.DataFrame, schools: pl.DataFrame, title: str, size=(360, 380)) -> maps.Map:
    """`found`: rows of the public_places query (as searched); `schools`: public_school_districts."""
    shapes_ = maps.shapes(schools.filter(pl.col("geometry").is_not_null()))
    points_of = maps.representative_points(shapes_)
    shown = set(zip(found["district"].to_list(), found["school_district"].to_list()))
    outlines, context = [], []
    for key, geom in shapes_.items():
        for rings in maps._rings(geom):
            if key in shown:
                outlines.append(
                    {
                        "polygon": rings,
                        "fill": list(maps.rgba(OUTLINE_FILL, 60)),
                        "line": list(maps.EDGE_LINE),
                        "line_px": maps.EDGE_LINE_PX,
                        "district": key[0],
                        "school_district": key[1],
                        "tip_title": f"{key[1]}学区（{key[0]}地区）",
                        "tip": "",
                    }
                )
            else:
                context.append({"polygon": rings})
    points, groups = [], set()
    for i, r in enumerate(found.iter_rows(named=True)):
        if r["venue_type"] in maps.PRIVATE_VENUES or r["lat"] is None or r["lon"] is None:
            continue
        group = maps.CATEGORY_GROUPS.get(r["category"], "見守り・その他")
        groups.add(group)
        points.append(
            {
                "position": [round(r["lon"], 5), round(r["lat"], 5)],
                "color": list(maps.rgba(maps.GROUP_COLORS[group], 235)),
                "radius": POINT_RADIUS_M,
                "district": r["district"],
                "school_district": r["school_district"],
                "row": i,
                "tip_title": r["name"],
                "tip": _tip(r),
            }
        )
    private = found.filter(pl.col("venue_type").is_in(list(maps.PRIVATE_VENUES)))
    gathered, unplaced, private_groups = maps.place_points(private, points_of, names=False)
    for p in gathered:
        p["row"] = -1
    points += gathered
    unplaced += found.height - private.height - (len(points) - len(gathered))
    legend = maps.Legend("通いの場（種別）")
    colors = {**maps.GROUP_COLORS, maps.PRIVATE_GROUP: maps.PRIVATE_COLOR}
    legend.points = [
        (g, colors[g]) for g in [*maps.GROUP_COLORS, maps.PRIVATE_GROUP] if g in groups | set(private_groups)
    ]
    box = maps.bounds_of([shapes_[k] for k in shown if k in shapes_], [p["position"] for p in points])
    view = maps.fit_view(box, *size) if box else None
    return maps.Map(title, legend, outlines, context, points, [], [], view, unplaced, [], sorted(shown))
