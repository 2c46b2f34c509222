import sys

from django.core.management.base import BaseCommand, CommandError

from apps.core.progress import progress_bar, progress_show
from apps.trends.embeddings import dimensions, embedding_model_name
from apps.trends.pipeline.runner import PipelineAlreadyRunning, pipeline_lock
from apps.trends.reembed import embedding_dimensions_stored, items_reembed


class Command(BaseCommand):
    help = "Re-embed every item whose vector is not the configured EMBEDDING_MODEL's (resumable)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", dest="batch_size", type=int, default=256, help="Items per batch")

    def handle(self, *args, batch_size=256, **options) -> None:
        if batch_size < 1:
            raise CommandError(f"--batch-size must be at least 1, got {batch_size}.")
        show = options.get("verbosity", 1) >= 1 and sys.stderr.isatty()
        stored, wanted = embedding_dimensions_stored(), dimensions()
        if stored != wanted and options.get("verbosity", 1) >= 1:
            self.stdout.write(f"Resizing vector columns from {stored} to {wanted} dimensions ...")

        def progress(done: int, total: int) -> None:
            if show:
                progress_show(f"{progress_bar(done, total)} {done:,}/{total:,} items")

        try:
            with pipeline_lock():
                done = items_reembed(batch_size=batch_size, progress=progress)
        except PipelineAlreadyRunning as exc:
            raise CommandError(f"{exc} Re-embedding waits for it: run reembed again afterwards.") from None
        if show:
            sys.stderr.write("\n")
        self.stdout.write(f"Done! Re-embedded {done:,} items with {embedding_model_name()}.")
