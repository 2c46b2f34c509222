"""`make bench`: run every tests/bench/bench_*.py (each has a main() that prints its figures).

Benchmarks run against their own throw-away embedded services, like the tests. Pass names to run a subset:
``python -m tests.bench ingest pipeline``; ``python -m tests.bench api`` is the API under load (bench_api.py).
"""

import importlib
import os
import pkgutil
import sys
import time
from pathlib import Path

from trendsite import embedded


def main(argv: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    if argv:
        names = [n for n in names if n.removeprefix("bench_") in argv or n in argv]
    if not names:
        print("No benchmarks to run.")
        return 0
    with embedded.throwaway() as services:
        os.environ.update(
            DATABASE_URL=services.database_url,
            REDIS_URL=services.redis_url,
            CELERY_BROKER_URL=services.broker_url,
            DJANGO_SETTINGS_MODULE="trendsite.settings.test",
        )
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        for name in names:
            print(f"\n== {name.removeprefix('bench_')} ==", flush=True)
            started = time.perf_counter()
            importlib.import_module(f"tests.bench.{name}").main()
            print(f"({time.perf_counter() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
