from django.core.management.base import BaseCommand

from apps.plugins.models import Source

DEMO_DIR = "apps/plugins/demo"  # relative to the project directory, so the data moves with the checkout

# Offline sources first; the real kinds are configured but disabled until an operator adds credentials.
DEMO_STREAM = {
    "path": f"{DEMO_DIR}/uci-demo-stream.csv",
    "preset": "uci",
    "offset_column": "OFFSET_SECONDS",
    "lane_column": "LANE",
    "loop": True,
}
# One file of real headlines (UCI, public domain), three lanes that look like three kinds of source.
DEMO_LANES = ("demo-rss-wire", "rss"), ("demo-hn-front", "hn"), ("demo-reddit-news", "reddit")
DEMO_SOURCES = [
    *((name, Source.Kind.REPLAY, True, 60, {**DEMO_STREAM, "lane": lane}) for name, lane in DEMO_LANES),
    ("hackernews-top", Source.Kind.HACKERNEWS, False, 900, {"list": "top", "max_items": 100}),
    ("reddit-worldnews", Source.Kind.REDDIT, False, 900, {"subreddits": ["worldnews", "technology"]}),
    ("rss-news", Source.Kind.RSS, False, 900, {"urls": ["https://feeds.bbci.co.uk/news/rss.xml"]}),
    ("google-trends-us", Source.Kind.RSS, False, 1800, {"urls": ["https://trends.google.com/trending/rss?geo=US"]}),
    ("youtube-popular-us", Source.Kind.YOUTUBE, False, 3600, {"region_code": "US"}),
    ("x-search", Source.Kind.TWITTER, False, 1800, {"queries": ["breaking news -is:retweet lang:en"]}),
]


class Command(BaseCommand):
    help = "Create the demo sources (offline replays enabled, real kinds disabled); keeps existing ones."

    def handle(self, *args, **options):
        created = 0
        for name, kind, enabled, interval, config in DEMO_SOURCES:
            _, was_created = Source.objects.get_or_create(
                name=name, defaults={"kind": kind, "enabled": enabled, "poll_interval": interval, "config": config}
            )
            created += was_created
        self.stdout.write(f"Done! Created {created} demo source(s).")
