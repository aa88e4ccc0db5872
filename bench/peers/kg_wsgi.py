"""policykg's WSGI app for another WSGI server (bench/path.py runs it under Granian): the file in $KG_BENCH_DATA."""

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from server import create_app  # noqa: E402

app = create_app({"DATA": [os.environ["KG_BENCH_DATA"]], "DATA_DIR": tempfile.mkdtemp(prefix="kg-bench-wsgi-")})
