"""Viewer speed in Debian's Chromium (run by ``benchmarks/viewer_bench.py``; not collected as a
test: figures, not verdicts).

- **first image**: from the page's load event to the first image drawn, a 30-slice 512×512 CT
  (median of several page loads);
- **further slices**: from a key press to the next slice drawn, once the series is in memory;
- **W/L drag**: a window drag over the 2140×1760 radiograph, as drawn frames per second and the
  time from a mouse move to the frame that shows it;
- **baseline, same run**: what one window step cost with the former viewer, which asked the
  server for a new PNG of the radiograph at every step (``/instances/<id>/frames/0.png?wc=&ww=``).
"""

from __future__ import annotations

import statistics
import time

import pytest

from tests.browser.conftest import login, viewer_ready
from tests.viewer.factories import ct_512, make_case, radiograph

pytestmark = [pytest.mark.django_db(transaction=True)]

HOOKS = """
window.__bench = {load: null, rendered: [], voi: []};
window.addEventListener('load', () => { window.__bench.load = performance.now(); });
document.addEventListener('CORNERSTONE_IMAGE_RENDERED',
    () => window.__bench.rendered.push(performance.now()), true);
document.addEventListener('CORNERSTONE_VOI_MODIFIED',
    () => window.__bench.voi.push(performance.now()), true);
"""


def _ms(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return f"median {statistics.median(values):.1f} ms, p95 {p95:.1f} ms (n={len(values)})"


def test_viewer_speed(live_server, page, teacher, student):
    ct = make_case(teacher, ct_512(30), title="CT 512")
    dx = make_case(teacher, [radiograph()], modality="DX", title="Radiograph")
    page.add_init_script(HOOKS)
    login(page, live_server.url, student.username)

    first, since_start, loads = [], [], []
    for n in range(6):
        page.goto(f"{live_server.url}/cases/{ct.pk}/")
        viewer_ready(page)
        page.wait_for_function("() => window.__bench.load !== null")
        load, rendered = page.evaluate("() => [window.__bench.load, window.__bench.rendered[0]]")
        if n:  # the first load also fills the server's and the browser's caches
            first.append(max(rendered - load, 0.0))
            since_start.append(rendered)
            loads.append(load)
    renderer = page.locator("#viewport").get_attribute("data-renderer")

    # Every slice in memory (the viewer prefetches the series), then one key press per slice.
    page.wait_for_timeout(2000)
    page.locator("#viewer").focus()
    slices = []
    for _ in range(25):
        slices.append(
            page.evaluate(
                """() => new Promise(resolve => {
                    const start = performance.now();
                    document.addEventListener('CORNERSTONE_IMAGE_RENDERED',
                        () => resolve(performance.now() - start), {capture: true, once: true});
                    document.getElementById('viewer').dispatchEvent(
                        new KeyboardEvent('keydown', {key: 'ArrowDown', bubbles: true}));
                })"""
            )
        )

    page.goto(f"{live_server.url}/cases/{dx.pk}/")
    viewer_ready(page)
    page.wait_for_timeout(500)
    box = page.locator("#viewport").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.evaluate("() => { window.__bench.rendered = []; window.__bench.voi = []; }")
    page.mouse.move(x, y)
    page.mouse.down()
    start = time.perf_counter()
    for step in range(1, 121):
        page.mouse.move(x + step * 2, y + step)
    page.mouse.up()
    drag_seconds = time.perf_counter() - start
    page.wait_for_timeout(300)
    voi, rendered = page.evaluate("() => [window.__bench.voi, window.__bench.rendered]")
    # Time from each window change to the first frame drawn after it.
    lags = []
    for t in voi:
        after = [r for r in rendered if r >= t]
        if after:
            lags.append(after[0] - t)
    drawn = len({round(r, 3) for r in rendered})

    # Baseline: one window step as the former viewer did it, a server-rendered PNG.
    instance = dx.instances().get()
    session = page.context.request
    baseline = []
    for n in range(8):
        t0 = time.perf_counter()
        response = session.get(
            f"{live_server.url}/instances/{instance.pk}/frames/0.png?wc={1000 + n * 10}&ww=3000"
        )
        assert response.ok
        baseline.append((time.perf_counter() - t0) * 1000)

    print()
    print(f"renderer: {renderer} (software WebGL in this browser: Cornerstone's canvas path)")
    print(f"first image after the load event (CT 30 × 512×512): {_ms(first)}")
    print(f"  (drawn {_ms(since_start)} after navigation start; load event {_ms(loads)})")
    print(f"further slice, series in memory: {_ms(slices)}")
    print(
        f"W/L drag on 2140×1760: {drawn} frames drawn in {drag_seconds:.2f} s "
        f"({drawn / drag_seconds:.0f} frames/s while Playwright sent 120 moves); "
        f"window change to frame drawn: {_ms(lags)}"
    )
    print(f"baseline, one W/L step of the former viewer (server PNG): {_ms(baseline)}")
    print(
        f"ratio: one in-browser W/L frame is "
        f"{statistics.median(baseline) / max(statistics.median(lags), 0.1):.0f}× faster"
    )
