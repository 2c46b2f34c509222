from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug

from apps.plugins.opml import OpmlError, opml_feeds_read, source_feeds_extend


class Command(BaseCommand):
    help = "Add the feeds of an OPML file (a feed reader's export) to an rss source, creating it if missing."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the OPML file")
        parser.add_argument("--source", required=True, help="rss source name (created if missing)")
        parser.add_argument("--disabled", action="store_true", help="create the source disabled")

    def handle(self, *args, file, source, disabled, **options):
        try:
            validate_slug(source)
        except ValidationError:
            raise CommandError(f"--source {source!r} is not a valid name (letters, digits, - and _).") from None
        try:
            feeds = opml_feeds_read(path=Path(file))
        except OpmlError as exc:
            raise CommandError(str(exc)) from None
        for url in feeds.refused[:5]:
            self.stderr.write(f"refused (not an http(s) URL): {url}")
        if not feeds.urls:
            raise CommandError(f"{file}: no feed URLs found (outline elements with an http(s) xmlUrl).")
        try:
            target, added, created = source_feeds_extend(name=source, urls=feeds.urls, enabled=not disabled)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        total = len(target.config["urls"])
        self.stdout.write(
            f"Done! {'Created' if created else 'Extended'} rss source '{target.name}': {added:,} feed(s) added, "
            f"{total:,} in all; {feeds.duplicates:,} duplicate(s) and {len(feeds.refused):,} refused URL(s) skipped."
        )
