"""Heavy queries are admitted through a bounded queue: cached and light requests never wait behind them (issue 11, 4)."""

import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from serverkit import CROSS_PRODUCT, SAMPLE, kg_serve

LIMIT = 6.0  # the runaways' own time limit (timeout=, below the server's 10 s)
MARGIN = 1.5  # what a request may take past its limit end to end (kill, answer, a loaded machine)
RUNAWAYS = 8
ASK = "ASK {}"


def get(url: str, query: str, *, wait: float = 30.0, **params) -> tuple[int, dict, float]:
    """(status, headers, seconds end to end) of GET /sparql?query=…"""
    address = f"{url}/sparql?" + urllib.parse.urlencode({"query": query, **params})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(address, timeout=wait) as answer:
            answer.read()
            return answer.status, dict(answer.headers), time.monotonic() - started
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, dict(error.headers), time.monotonic() - started
    except (TimeoutError, urllib.error.URLError):  # no answer within `wait`: status 0
        return 0, {}, time.monotonic() - started


@pytest.mark.reliability
def test_with_eight_runaway_queries_running_cached_and_light_queries_answer_in_under_a_second():
    # kg serve's defaults (2 processes); the data is the sample, so only time limits stop the cross products.
    with kg_serve("--data", SAMPLE) as (url, _):
        for _ in range(4):  # into the result cache of each server process (connections spread over both)
            assert get(url, ASK)[0] == 200
        runaways: list[tuple[int, dict, float]] = []
        threads = [threading.Thread(target=lambda: runaways.append(
            get(url, CROSS_PRODUCT, wait=LIMIT + 10, timeout=str(LIMIT)))) for _ in range(RUNAWAYS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        time.sleep(3.5)  # the burst admitted: queries beyond the queue refused, reserve-stopped ones answered
        light = []
        for n in range(4):  # while the runaways on the general workers still run (until LIMIT)
            light.append(("cached", *get(url, ASK, wait=5)))
            light.append(("uncached", *get(url, f"SELECT ?s {{ ?s ?p ?o }} LIMIT {n + 1}", wait=5)))
            time.sleep(0.3)
        assert time.monotonic() - started < LIMIT, ("the light queries ran after the runaways had ended", light)
        for thread in threads:
            thread.join(LIMIT + 15)
        for kind, status, _, seconds in light:
            assert status == 200 and seconds < 1.0, (kind, status, round(seconds, 2), light)
        assert len(runaways) == RUNAWAYS
        for status, headers, seconds in runaways:
            assert status == 503 and "Retry-After" in headers, (status, runaways)
            assert seconds < LIMIT + MARGIN, (round(seconds, 2), runaways)
        assert get(url, ASK)[0] == 200
        assert get(url, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", wait=10)[0] == 200
