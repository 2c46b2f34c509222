import factory

from apps.plugins.models import Source


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    name = factory.Sequence(lambda n: f"source-{n}")
    kind = Source.Kind.RSS
    config = factory.LazyFunction(lambda: {"urls": ["http://127.0.0.1:9/feed.xml"]})
    enabled = True
    poll_interval = 900
