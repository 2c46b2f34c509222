from django.core.management.base import BaseCommand, CommandError

from apps.plugins.collectors import collector_class
from apps.plugins.models import CollectionRun
from apps.plugins.services import source_collect, sources_due


class Command(BaseCommand):
    help = "Collect the named sources (or every enabled one) now and print per-source counts."

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="NAME", help="source names")
        parser.add_argument("--all", action="store_true", help="every enabled source")
        parser.add_argument("--dry-run", action="store_true", help="fetch and parse, store nothing")

    def handle(self, *args, names, all, dry_run, **options):
        if bool(names) == bool(all):
            raise CommandError("Name one or more sources, or pass --all.")
        sources = sources_due(names=names or None)
        missing = sorted(set(names) - {s.name for s in sources})
        if missing:
            raise CommandError(f"No source named {', '.join(missing)}.")
        failed = 0
        for source in sources:
            if dry_run:
                self._dry_run(source)
                continue
            run = source_collect(source=source, trigger="command", force=True)
            failed += run.status == CollectionRun.Status.FAILED
            line = (
                f"{source.name}: {run.status} fetched={run.fetched_count} new={run.new_count} "
                f"updated={run.duplicate_count} skipped={run.skipped_count} ({run.duration_ms or 0:.0f} ms)"
            )
            self.stdout.write(line + (f"\n  error: {run.error[:300]}" if run.error else ""))
        self.stdout.write(f"Done! {len(sources)} source(s), {failed} failed.")

    def _dry_run(self, source):
        try:
            outcome = collector_class(source.kind)(source).collect()
        except Exception as exc:  # noqa: BLE001 - report and move on to the next source
            self.stdout.write(f"{source.name}: would fail: {exc}")
            return
        state = "not modified" if outcome.not_modified else f"{len(outcome.drafts)} item(s)"
        self.stdout.write(f"{source.name}: would store {state}" + "".join(f"\n  {e}" for e in outcome.errors))
