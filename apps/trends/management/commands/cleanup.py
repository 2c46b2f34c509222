import sys
import time

from django.core.management.base import BaseCommand, CommandError

from apps.core.progress import progress_bar, progress_show
from apps.trends.cleanup import PARTS, RESULT_KEYS, cleanup_run
from apps.trends.pipeline.lock import PipelineAlreadyRunning


def _parts(value: str) -> list[str]:
    parts = [part.strip() for part in value.split(",") if part.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise CommandError(f"--only takes a comma-separated list of {','.join(PARTS)}; got {value!r}.")
    return parts


class Command(BaseCommand):
    help = (
        "Delete what is past retention (old items outside active trends, dead and declining trends, empty "
        "topics, old runs, events, sent notifications, task results) and clear embeddings of another model, "
        "in small batches; safe to stop and to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, help="keep this many days (default: the CLEANUP_DAYS setting)")
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
        parser.add_argument("--only", help=f"comma-separated parts: {','.join(PARTS)} (default: all)")
        parser.add_argument("--batch-size", type=int, help="rows per transaction (default: CLEANUP_BATCH_SIZE)")

    def handle(self, *args, days=None, dry_run=False, only=None, batch_size=None, **options) -> None:
        if days is not None and days < 1:
            raise CommandError(f"--days must be at least 1, got {days}.")
        if batch_size is not None and batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")
        show = options.get("verbosity", 1) >= 1 and sys.stderr.isatty()

        last_step = [""]  # the step whose bar is on screen

        def progress(step: str, done: int, total: int | None) -> None:
            if last_step[0] and last_step[0] != step:
                sys.stderr.write("\n")  # keep the finished step's bar, draw the next one below
            last_step[0] = step
            progress_show(f"{progress_bar(done, total or 0)} {step}: {done:,}/{total or 0:,}")

        started = time.monotonic()
        try:
            result = cleanup_run(
                days=days,
                only=_parts(only) if only is not None else None,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=progress if show else None,
            )
        except PipelineAlreadyRunning:
            raise CommandError(
                "Pipeline running: cleanup skipped and nothing deleted; run it again when the run has finished."
            ) from None
        if last_step[0]:
            sys.stderr.write("\n")
        verb = "would go" if dry_run else "done"
        for key in RESULT_KEYS:
            self.stdout.write(f"{key}: {result[key]:,}")
        self.stdout.write(f"cutoff_days: {result['cutoff_days']}\ntimestamp: {result['timestamp']}")
        total = sum(result[key] for key in RESULT_KEYS)
        prefix = "Dry run: " if dry_run else "Done! "
        seconds = time.monotonic() - started
        self.stdout.write(f"{prefix}{total:,} rows {verb} (older than {result['cutoff_days']} days) in {seconds:.1f}s.")
