from django.core.management.base import BaseCommand, CommandError

from apps.core.outage import ServiceDown, cache_require
from apps.plugins.models import CollectionRun, Source
from apps.plugins.services import source_collect, source_collect_lock, source_collector, sources_due


class Command(BaseCommand):
    help = (
        "Collect the named sources (or every enabled one) now, one line per source and a summary; "
        "exits 1 when any source failed (after collecting all the others)."
    )

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
        if not dry_run:
            try:
                cache_require()  # holds the collection locks shared with the workers
            except ServiceDown as exc:
                raise CommandError(f"Nothing was collected: {exc}.") from None
        outcomes = {"ok": [], "failed": [], "skipped": []}
        for source in sources:
            outcome = self._dry_run(source) if dry_run else self._collect(source)
            outcomes[outcome].append(source.name)
        ok, failed, skipped = (len(outcomes[key]) for key in ("ok", "failed", "skipped"))
        done = "Done (dry run, nothing stored)!" if dry_run else "Done!"
        self.stdout.write(f"{done} {len(sources)} sources: {ok} ok, {failed} failed, {skipped} skipped.")
        if failed:
            # After the summary, so cron and CI notice while every other source was still collected.
            raise CommandError(f"Failed: {', '.join(outcomes['failed'])} (see their runs in the admin).")

    def _collect(self, source: Source) -> str:
        """Collect one source and print its line; "ok", "failed" or "skipped" (a worker holds it)."""
        try:
            with source_collect_lock(source_id=source.pk) as acquired:
                if not acquired:
                    self.stdout.write(f"{source.name}: skipped (a worker is collecting it)")
                    return "skipped"
                run = source_collect(source=source, trigger="command", force=True)
        except ServiceDown as exc:
            raise CommandError(f"Stopped at {source.name}: {exc}.") from None
        if run.status == CollectionRun.Status.SKIPPED:
            self.stdout.write(f"{source.name}: skipped ({run.error})")
            return "skipped"
        line = (
            f"{source.name}: {run.status} fetched={run.fetched_count} new={run.new_count} "
            f"updated={run.duplicate_count} skipped={run.skipped_count} ({run.duration_ms or 0:.0f} ms)"
        )
        self.stdout.write(line + (f"\n  error: {run.error[:300]}" if run.error else ""))
        return "failed" if run.status == CollectionRun.Status.FAILED else "ok"

    def _dry_run(self, source: Source) -> str:
        """Fetch and parse one source, store nothing, print its line; "ok" or "failed"."""
        try:
            outcome = source_collector(source=source).collect()
        except Exception as exc:  # noqa: BLE001 - report and move on to the next source
            kind = "permanent" if getattr(exc, "permanent", False) else "temporary"
            self.stdout.write(f"{source.name}: would fail ({kind}): {getattr(exc, 'message', exc)}")
            return "failed"
        state = "not modified" if outcome.not_modified else f"fetched={len(outcome.drafts)}"
        self.stdout.write(f"{source.name}: would store {state}" + "".join(f"\n  {e}" for e in outcome.errors))
        return "ok"
