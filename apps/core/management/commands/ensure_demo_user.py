from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create the demo superuser for local runs (never in production) and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="trendsite")

    def handle(self, *args, username: str, password: str, **options):
        if not settings.DEMO_USER_ALLOWED:
            raise CommandError(
                "ensure_demo_user refuses to run under production settings: a superuser with a published "
                "password would be a way in for anyone. Create a real one with `manage.py createsuperuser`."
            )
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True, "is_superuser": True, "email": "admin@localhost"}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        state = "created" if created else "exists"
        self.stdout.write(f"Demo login ({state}): {username} / {password if created else '(unchanged)'}")
