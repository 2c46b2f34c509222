import factory

from apps.alerts.models import AlertRule, Channel, DigestSubscription
from apps.trends.models import Topic, Trend


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    name = factory.Sequence(lambda n: f"channel-{n}")
    kind = "console"
    config = factory.LazyFunction(dict)


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"rule-{n}")
    cooldown_minutes = 0

    @factory.post_generation
    def channels(self, create, extracted, **kwargs):
        if create and extracted:
            self.channels.set(extracted)


class TrendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Trend

    topic = factory.LazyFunction(lambda: Topic.objects.create(keywords=["alpha"]))
    title = factory.Sequence(lambda n: f"Trend number {n}")
    score = 5.0


class DigestSubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DigestSubscription

    email = factory.Sequence(lambda n: f"reader{n}@example.com")
    send_hour = 8
