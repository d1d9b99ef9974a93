"""LiveSession: the table through which the admin sees the sessions of every process."""

from __future__ import annotations

from django.db import models

__all__ = ["LiveSession"]


class LiveSession(models.Model):
    """A live session as last reported by the process that holds it."""

    session_id = models.CharField(max_length=64, primary_key=True)
    app = models.CharField(max_length=100, db_index=True)
    user = models.CharField(max_length=150, blank=True, db_index=True)
    process = models.CharField(max_length=200, db_index=True)
    process_started = models.CharField(
        max_length=64,
        blank=True,
        default="",
        db_default="",
        help_text="When the holding process started: a pid reused by another process is told apart.",
    )
    created = models.DateTimeField()
    last_activity = models.DateTimeField(db_index=True)
    connections = models.PositiveIntegerField(default=0)
    models_count = models.PositiveIntegerField("models", default=0)
    messages_in = models.PositiveBigIntegerField(default=0)
    messages_out = models.PositiveBigIntegerField(default=0)
    bytes_in = models.PositiveBigIntegerField(default=0)
    bytes_out = models.PositiveBigIntegerField(default=0)
    keep_alive = models.BooleanField(default=False)
    snapshot_saved = models.DateTimeField(null=True, blank=True, help_text="When its last snapshot was written.")
    snapshot_bytes = models.PositiveBigIntegerField(default=0, help_text="The size of its last snapshot.")
    reported = models.DateTimeField(db_index=True, help_text="When the holding process last wrote this row.")

    class Meta:
        ordering = ["-last_activity"]
        verbose_name = "live session"

    def __str__(self) -> str:
        return f"{self.app} {self.session_id[:8]}"

    @property
    def short_id(self) -> str:
        """The first characters of the session id."""
        return self.session_id[:10]


class SessionSnapshot(models.Model):
    """The last saved state of a session (``DOCSYNC["PERSISTENCE"] = "database"``), restored after its process died."""

    session_id = models.CharField(max_length=64, primary_key=True)
    app = models.CharField(max_length=100, db_index=True)
    seq = models.PositiveBigIntegerField(default=0, help_text="The session's position when it was saved.")
    nbytes = models.PositiveBigIntegerField("bytes", default=0)
    process = models.CharField(max_length=200, help_text="The process that saved it.")
    saved = models.DateTimeField()
    expires = models.DateTimeField(db_index=True)
    data = models.BinaryField(help_text="The snapshot: header JSON and raw buffers (docsync.server.persistence).")

    class Meta:
        ordering = ["-saved"]
        verbose_name = "session snapshot"

    def __str__(self) -> str:
        return f"{self.app} {self.session_id[:8]} @{self.seq}"


class SessionRecord(models.Model):
    """One change of a session, written before it was acknowledged (the write-ahead journal of persistence)."""

    session_id = models.CharField(max_length=64, db_index=True)
    number = models.PositiveBigIntegerField(help_text="The record's place in the session's journal.")
    expires = models.DateTimeField(db_index=True)
    data = models.BinaryField(help_text="The change: header JSON and raw buffers (docsync.server.persistence.journal).")

    class Meta:
        ordering = ["session_id", "number"]
        verbose_name = "session change record"
        indexes = [models.Index(fields=["session_id", "number"], name="docsync_record_session_number")]

    def __str__(self) -> str:
        return f"{self.session_id[:8]} #{self.number}"
