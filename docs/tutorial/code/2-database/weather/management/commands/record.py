# weather/management/commands/record.py: a new file
from django.core.management.base import BaseCommand

from weather.models import Reading


class Command(BaseCommand):
    help = "Record a temperature reading: manage.py record STATION DEGREES"

    def add_arguments(self, parser):
        parser.add_argument("station")
        parser.add_argument("temperature", type=float)

    def handle(self, station, temperature, **options):
        reading = Reading.objects.create(station=station, temperature=temperature)
        self.stdout.write(f"recorded {reading}")
