# weather/models.py: the whole file
from django.db import models


class Reading(models.Model):
    """One temperature reading of a weather station."""

    station = models.CharField(max_length=40)
    taken_at = models.DateTimeField(auto_now_add=True)
    temperature = models.FloatField()

    def __str__(self):
        return f"{self.station} {self.temperature} °C at {self.taken_at:%H:%M:%S}"
