import sys

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, make_aware

from apps.core.progress import progress_bar, progress_show
from apps.trends.pipeline.runner import WORKFLOWS, PipelineAlreadyRunning, pipeline_run


class Command(BaseCommand):
    help = "Run a pipeline workflow once; with --as-of, replay the stream up to that time."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--workflow", choices=list(WORKFLOWS), default="full")
        parser.add_argument("--as-of", dest="as_of", help="ISO 8601 time: process items published up to then")
        parser.add_argument("--batch-size", dest="batch_size", type=int, help="Items per batch (default: setting)")

    def handle(self, *args, workflow="full", as_of=None, batch_size=None, **options) -> None:
        when = None
        if as_of:
            when = parse_datetime(as_of)
            if when is None:
                raise CommandError(f"--as-of {as_of!r} is not an ISO 8601 time, e.g. 2014-03-10T12:00:00Z.")
            if is_naive(when):
                when = make_aware(when)
        show = options.get("verbosity", 1) >= 1 and sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show:
                progress_show(f"{progress_bar(done, total)} {done:,}/{total:,} items")

        try:
            run = pipeline_run(
                workflow=workflow, as_of=when, trigger="command", batch_size=batch_size, progress=progress
            )
        except PipelineAlreadyRunning as exc:
            raise CommandError(f"Already running: {exc}") from None
        if show:
            sys.stderr.write("\n")
        counts = run.stats.get("counts", {})
        seconds = (run.finished_at - run.started_at).total_seconds()
        self.stdout.write(
            f"Done! {workflow}: {run.item_count:,} items in {seconds:.1f}s, "
            f"{counts.get('topics_created', 0):,} new topics, {counts.get('topics_merged', 0):,} merges, "
            f"{counts.get('trends_created', 0):,} new trends, {counts.get('state_changes', 0):,} state changes."
        )
