from django.db import migrations, models
from pgvector.django import VectorExtension


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        # Every vector column in later migrations depends on this one.
        VectorExtension(),
        migrations.CreateModel(
            name="Event",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("trend.created", "Trend Created"), ("trend.state_changed", "Trend State Changed"), ("plugin.failed", "Plugin Failed"), ("plugin.recovered", "Plugin Recovered"), ("system.unhealthy", "System Unhealthy"), ("system.recovered", "System Recovered")], db_index=True, max_length=64)),
                ("subject_type", models.CharField(blank=True, help_text="Model label, e.g. trends.trend", max_length=64)),
                ("subject_id", models.BigIntegerField(blank=True, null=True)),
                ("payload", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("processed_at", models.DateTimeField(blank=True, null=True)),
            ],
            options={
                "ordering": ["id"],
                "indexes": [
                    models.Index(condition=models.Q(("processed_at__isnull", True)), fields=["id"], name="event_unprocessed_idx"),
                    models.Index(fields=["subject_type", "subject_id"], name="event_subject_idx"),
                ],
            },
        ),
    ]
