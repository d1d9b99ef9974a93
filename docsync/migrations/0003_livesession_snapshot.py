from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("docsync", "0002_sessionsnapshot")]

    operations = [
        migrations.AddField(
            model_name="livesession",
            name="snapshot_saved",
            field=models.DateTimeField(blank=True, help_text="When its last snapshot was written.", null=True),
        ),
        migrations.AddField(
            model_name="livesession",
            name="snapshot_bytes",
            field=models.PositiveBigIntegerField(default=0, help_text="The size of its last snapshot."),
        ),
    ]
