"""Run a command as a child and print its wall time and peak resident memory as JSON.

A fresh process of its own, so that ``RUSAGE_CHILDREN`` holds only this child's peak (the test
process's own earlier children, a Celery worker for one, would count otherwise).

    python tests/hostile/measure.py -- COMMAND ARG...
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

if __name__ == "__main__":
    argv = sys.argv[sys.argv.index("--") + 1 :]
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True)
    seconds = time.monotonic() - started
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    print(
        json.dumps(
            {
                "returncode": done.returncode,
                "seconds": seconds,
                "peak_rss_mib": peak_kib / 1024,
                "stderr": done.stderr[-2000:],
            }
        )
    )
