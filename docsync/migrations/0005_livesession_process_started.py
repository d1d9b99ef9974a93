from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("docsync", "0004_sessionrecord")]

    operations = [
        migrations.AddField(
            model_name="livesession",
            name="process_started",
            field=models.CharField(
                blank=True,
                default="",
                db_default="",
                help_text="When the holding process started: a pid reused by another process is told apart.",
                max_length=64,
            ),
        ),
    ]
