from django.core.management.base import BaseCommand

from apps.core.switches import PRODUCT_SWITCHES, collect_switch, switches_seed
from apps.plugins.collectors import COLLECTORS


class Command(BaseCommand):
    help = "Create the missing feature switches (on), so operators find every one in the admin; never flip one."

    def handle(self, *args, **options):
        created = switches_seed(names=[*PRODUCT_SWITCHES, *(collect_switch(kind) for kind in COLLECTORS)])
        self.stdout.write(f"Done! Created {len(created)} switch(es){': ' + ', '.join(created) if created else ''}.")
