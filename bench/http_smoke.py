"""HTTP smoke benchmark: signed-in residents read their profile and the list of centers.

    .venv/bin/python bench/http_smoke.py                 # 200 residents, 8 connections, 10 s
    .venv/bin/python bench/http_smoke.py --residents 2000 --concurrency 16 --duration 20

Proves the harness (bench/harness.py): the demo district and N residents with bearer tokens are
made in-process, gunicorn serves them from a fresh PostgreSQL database, and the connections
alternate ``GET /api/v1/me`` (token lookup, profile, eligibilities) and ``GET /api/v1/centers``
(124 centers, public). Every answer should be 200: there is no expected refusal and no invariant.
The reference transaction is one ``SELECT`` of a resident by id (bench/sql/resident_by_id.sql).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from typing import Any

from harness import Bench, Job, Scenario, create_residents, get_job, load_district, main


class HttpSmoke(Scenario):
    name = "http_smoke"
    description = __doc__ or ""
    pgbench_script = "resident_by_id.sql"
    defaults = {"duration": 10.0, "time_cap": 30.0}

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--residents", type=int, default=200, help="signed-in residents")

    def setup(self, bench: Bench) -> None:
        load_district()
        bench.state["residents"] = create_residents(bench.args.residents, seed=bench.args.seed)

    def warmup(self, bench: Bench) -> Iterator[Job]:
        for one in bench.state["residents"][: 10 * bench.args.workers]:
            yield get_job("/api/v1/me", token=one.token)
            yield get_job("/api/v1/centers", token=one.token)

    def jobs(self, bench: Bench) -> Iterator[Job]:
        for i, one in enumerate(itertools.cycle(bench.state["residents"])):
            if i % 2 == 0:
                yield get_job("/api/v1/me", token=one.token, tag="GET /me")
            else:
                yield get_job("/api/v1/centers", token=one.token, tag="GET /centers")

    def pgbench_variables(self, bench: Bench) -> dict[str, Any]:
        ids = [one.resident.pk for one in bench.state["residents"]]
        return {"min_id": min(ids), "max_id": max(ids)}


if __name__ == "__main__":
    main(HttpSmoke())
