"""Template helpers of the teaching pages: a key image with the lesion's region, the teacher's
arrows and circles, a student's click or a class's clicks (heat map), drawn as SVG on the
server, so showing them needs no script."""

from __future__ import annotations

from django import template

register = template.Library()


def _shape(a: dict, width: int, height: int) -> dict | None:
    kind = a.get("type")
    if kind == "ellipse":
        return {
            "kind": "ellipse",
            "region": True,
            "cx": a["cx"] * width,
            "cy": a["cy"] * height,
            "rx": a["rx"] * width,
            "ry": a["ry"] * height,
        }
    if kind == "polygon":
        points = " ".join(f"{x * width:.1f},{y * height:.1f}" for x, y in a["points"])
        return {"kind": "polygon", "region": True, "points": points}
    if kind == "circle":
        return {
            "kind": "ellipse",
            "region": False,
            "cx": a["cx"] * width,
            "cy": a["cy"] * height,
            "rx": a["r"] * width,
            "ry": a["r"] * width,
        }
    if kind == "arrow":
        return {
            "kind": "arrow",
            "x1": a["x1"] * width,
            "y1": a["y1"] * height,
            "x2": a["x2"] * width,
            "y2": a["y2"] * height,
        }
    return None  # fmt: skip


@register.inclusion_tag("teaching/_lesion_image.html")
def lesion_image(key, url: str, region=None, own=None, clicks=(), label: str = "",
                 annotations=None):  # fmt: skip
    """The key image ``key`` (rendered at ``url``) with ``region`` (or all ``annotations``),
    the student's own click ``own`` = (x, y) and other ``clicks`` (a heat map), all in 0..1
    image coordinates."""
    width, height = max(key.instance.columns, 1), max(key.instance.rows, 1)
    radius = max(width, height) * 0.02
    drawn = annotations if annotations is not None else ([region] if region else [])
    shapes = [s for s in (_shape(a, width, height) for a in drawn) if s]
    return {
        "url": url,
        "width": width,
        "height": height,
        "label": label,
        "shapes": shapes,
        "own": (own[0] * width, own[1] * height) if own and None not in own else None,
        "heat": [(x * width, y * height) for x, y in clicks if x is not None and y is not None],
        "radius": radius,
        "heat_radius": radius * 1.6,
        "marker": f"arrow-{key.pk}",
    }


@register.simple_tag(takes_context=True)
def answered_in_search(context, text: str) -> list:
    """The quiz cases the signed-in student answered that ``text`` names: the index leaves a
    quiz's diagnosis out for everyone, but the student who answered may find it by it."""
    from archive.services.quiz import answered_matching

    request = context.get("request")
    if request is None or not request.user.is_authenticated or not (text or "").strip():
        return []
    return answered_matching(user=request.user, text=text, limit=10)
