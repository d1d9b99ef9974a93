"""Admin pages for live sessions: list (all processes), detail, and actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from asgiref.sync import async_to_sync
from django.contrib import admin, messages
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from .conf import docsync_settings
from .models import LiveSession
from .server.admin_support.commands import MAX_NOTICE_CHARS, send_command
from .server.admin_support.drain import send_drain
from .server.admin_support.processes import process_gone, rows_kept_for, silent_after
from .server.admin_support.session_detail import MODELS_PER_PAGE
from .server.persistence import keeper_of
from .server.registry import get_registry

__all__ = ["MAX_USER_CHOICES", "LiveSessionAdmin", "UserListFilter"]


def _command(process_id: str, command: str, session_id: str, **arguments: Any) -> Any:
    """Run an admin command where the session lives (this process or another)."""
    return async_to_sync(send_command)(get_registry(), process_id, command, session_id, **arguments)


def _reported_rows() -> QuerySet[LiveSession]:
    """Rows of processes that still run: reported within ``PROCESS_TIMEOUT``, and not of a process known gone.

    Rows of dead processes are deleted by the next process that writes the table, and a
    process writes it only once it has a session: until then they are merely not shown.
    """
    now = dt.datetime.now(tz=dt.UTC)
    rows = LiveSession.objects.filter(reported__gte=now - _timeout())
    gone = _gone_processes(now)
    return rows.exclude(_of_processes(gone)) if gone else rows


def _of_processes(processes: list[tuple[str, str]]) -> Q:
    """The rows of these processes, each told by its name (``host:pid``) and its start time."""
    which = Q()
    for process, started in processes:
        which |= Q(process=process, process_started=started)
    return which


def _timeout() -> dt.timedelta:
    config = docsync_settings()
    return dt.timedelta(seconds=rows_kept_for(float(config.PROCESS_TIMEOUT), float(config.ADMIN_REFRESH)))


def _silent_since(now: dt.datetime) -> dt.datetime:
    """Rows last written before then are silent: their process missed its last writes."""
    return now - dt.timedelta(seconds=silent_after(float(docsync_settings().ADMIN_REFRESH)))


def _gone_processes(now: dt.datetime) -> list[tuple[str, str]]:
    """Processes of this machine that no longer run, among those whose rows are silent: (name, start time).

    A SIGKILL (or a crash) leaves its rows behind; they would be listed for up to
    ``PROCESS_TIMEOUT`` more (15 s by default) though the process is known gone. A pid
    the system gave to another process since is no sign of life: that one started later.
    Only silent rows are asked about, so a live process is never taken for gone.
    """
    silent = LiveSession.objects.filter(reported__lt=_silent_since(now)).values_list("process", "process_started")
    # order_by(): the model's default ordering would join DISTINCT, one row per timestamp.
    return sorted(p for p in set(silent.order_by().distinct()) if process_gone(*p))


def _freshness() -> str:
    newest = _reported_rows().aggregate(newest=Max("reported"))["newest"]
    refresh = docsync_settings().ADMIN_REFRESH
    if newest is None:
        return f"No live sessions reported (processes report every {refresh:g} s)."
    age = (dt.datetime.now(tz=dt.UTC) - newest).total_seconds()
    return f"Data as of {age:.1f} s ago; each process reports every {refresh:g} s."


def _unclustered() -> dict[str, Any]:
    """The processes writing the table now when there are several and CLUSTER is off (the list says what goes wrong)."""
    if docsync_settings().CLUSTER:
        return {}
    now = dt.datetime.now(tz=dt.UTC)
    # Processes that wrote within a refresh or two: a stopped one's rows are silent.
    writing = _reported_rows().filter(reported__gte=_silent_since(now)).values_list("process", "process_started")
    # Not one this machine knows gone (killed, restarted at once): its last rows are recent too.
    pairs = set(writing.distinct().order_by())
    processes = sorted({process for process, started in pairs if not process_gone(process, started)})
    return {"unclustered": processes} if len(processes) > 1 else {}


def _store_says(session_id: str) -> str:
    """Whether ``session_id`` can come back from the persistence store, in the admin's words."""
    keeper = keeper_of(get_registry())
    if keeper is None:
        return (
            'Sessions are not saved here (DOCSYNC["PERSISTENCE"] is off): it cannot come back; '
            "its pages start a new session when they reconnect."
        )
    try:
        # Its first byte says whether it is there; the whole could be MAX_SNAPSHOT_BYTES.
        saved = async_to_sync(keeper.read_store)(keeper.store.load_prefix(session_id, 1)) is not None
    except Exception as exc:
        return f"The session store could not be read ({exc}): whether it can come back is not known."
    if saved:
        return (
            "Its snapshot is in the session store: it comes back, in whichever process serves "
            "it, when one of its pages reconnects (until the snapshot expires)."
        )
    return "The session store holds no snapshot of it: it cannot come back; its pages start a new session."


def _stopped(shown: int = 10) -> dict[str, Any]:
    """The sessions the list leaves out because their process is known gone: a few links to their pages."""
    gone = _gone_processes(dt.datetime.now(tz=dt.UTC))
    if not gone:
        return {}
    rows = LiveSession.objects.filter(_of_processes(gone))
    return {
        "stopped": [
            (row.short_id, reverse("admin:docsync_livesession_live", args=[row.session_id]))
            for row in rows.order_by("-last_activity")[:shown]
        ],
        "stopped_count": rows.count(),
        "stopped_processes": sorted({process for process, _ in gone}),
    }


def _page_asked(value: str | None) -> int:
    """The page of models a query asks for: its number, or 1 (the command keeps it within the pages)."""
    return int(value) if value is not None and value.isascii() and value.isdigit() and len(value) < 10 else 1


def _page_links(page: int, pages: int) -> list[int | None]:
    """The pages a paginator links to: the first, the last, and two each side of ``page`` (None: a gap)."""
    near = {1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}
    links: list[int | None] = []
    for number in sorted(near):
        if links and number - (links[-1] or 0) > 1:
            links.append(None)
        links.append(number)
    return links


#: How the list and the detail page name a session without a logged-in user.
ANONYMOUS = "anonymous"


def _clock(moment: dt.datetime, *, date: bool = False) -> str:
    """A time in local time, 24-hour: hh:mm:ss, after its date (yyyy-mm-dd) when ``date``
    or when it is not today's: the list's columns stay narrow, the detail page always
    shows the date, and both write a time the same way.
    """
    local = timezone.localtime(moment)
    if date or local.date() != timezone.localdate():
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%H:%M:%S")


def _user(row: LiveSession) -> str:
    return row.user or ANONYMOUS


def _with_clock_times(detail: dict[str, Any] | None) -> dict[str, Any] | None:
    """``detail`` with its connections' times as the page shows every time."""
    if detail is None:
        return None
    # A process of an earlier release answers with every model and no pages.
    detail = {"models_total": len(detail.get("models", [])), "pages": 1, **detail}
    connections = [
        {**c, "since": _clock(c["since"], date=True)} if isinstance(c.get("since"), dt.datetime) else c
        for c in detail.get("connections", [])
    ]
    return {**detail, "connections": connections}


#: The "By user" filter lists at most this many users (those with the most live sessions).
MAX_USER_CHOICES = 20


class UserListFilter(admin.AllValuesFieldListFilter):
    """The list's "By user" filter: the users with the most live sessions, "anonymous" named as the list does."""

    def __init__(
        self, field: Any, request: HttpRequest, params: Any, model: Any, model_admin: Any, field_path: str
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        # Django lists every distinct user: a site with thousands online got as long a sidebar.
        # The rest are found with the search box (which searches user names too).
        users = model_admin.get_queryset(request).exclude(user="").values("user")
        ranked = users.annotate(n=Count("pk")).order_by("-n", "user").values_list("user", flat=True)
        shown = set(ranked[:MAX_USER_CHOICES])
        shown.update(value for value in self.lookup_val or () if value)  # a chosen user stays shown, selected
        if model_admin.get_queryset(request).filter(user="").exists():
            shown.add("")
        self.lookup_choices = sorted(shown)  # type: ignore[assignment]  # a list, not Django's lazy query

    def choices(self, changelist: Any) -> Iterator[Any]:  # django-stubs' TypedDict of a choice is private
        # Django lists the empty user name as a link with no text (" (2)" with counts).
        anonymous = changelist.get_query_string({self.lookup_kwarg: ""}, [self.lookup_kwarg_isnull])
        for choice in super().choices(changelist):
            if choice["query_string"] == anonymous:
                choice["display"] = ANONYMOUS + str(choice["display"])
            yield choice


if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin[LiveSession]
else:  # Django's ModelAdmin is generic in its stubs only
    _ModelAdmin = admin.ModelAdmin


@admin.register(LiveSession)
class LiveSessionAdmin(_ModelAdmin):
    """The live sessions of every process, with their details and admin actions."""

    list_display = (
        "short_id",
        "app",
        "user_name",
        "process_state",
        "created_at",
        "active_at",
        "connections",
        "models_count",
        "messages",
        "traffic",
        "keep_alive",
        "snapshot",
    )
    list_filter = ("app", ("user", UserListFilter), "process", "keep_alive")
    search_fields = ("session_id", "user")
    search_help_text = "Search by session id or user name."
    ordering = ("-last_activity",)
    actions = ("expire_now", "keep_from_expiring", "allow_expiring", "drain_processes")
    list_per_page = 100

    class Media:
        css = {"all": ("docsync/admin.css",)}  # the filters above the list in a laptop's window

    # Four pairs of figures share a column each, and times are short: the list fits a
    # laptop's window without scrolling sideways (15 columns did not).
    @admin.display(description="created", ordering="created")
    def created_at(self, row: LiveSession) -> str:
        """When the session was made."""
        return _clock(row.created)

    @admin.display(description="last activity", ordering="last_activity")
    def active_at(self, row: LiveSession) -> str:
        """When the session last received or sent a message."""
        return _clock(row.last_activity)

    @admin.display(description="user", ordering="user")
    def user_name(self, row: LiveSession) -> str:
        """Who opened the session: a user name, or "anonymous" (as on the detail page)."""
        return _user(row)

    @admin.display(description="process", ordering="process")
    def process_state(self, row: LiveSession) -> str:
        """The process that holds the session, marked when it has not written its rows lately."""
        if row.reported >= _silent_since(dt.datetime.now(tz=dt.UTC)):
            return row.process
        # Another machine's process, or one whose pid was taken again: it may have stopped.
        return format_html(
            '{}<br><span class="docsync-silent">not responding since {}</span>', row.process, _clock(row.reported)
        )

    @admin.display(description="messages in / out", ordering="messages_in")
    def messages(self, row: LiveSession) -> str:
        """Messages received and sent."""
        return f"{row.messages_in:,} / {row.messages_out:,}"

    @admin.display(description="bytes in / out", ordering="bytes_in")
    def traffic(self, row: LiveSession) -> str:
        """Bytes received and sent."""
        return f"{filesizeformat(row.bytes_in)} / {filesizeformat(row.bytes_out)}"

    @admin.display(description="last snapshot", ordering="snapshot_saved")
    def snapshot(self, row: LiveSession) -> str:
        """When the session's last snapshot was written, and its size."""
        if row.snapshot_saved is None:
            return "-"
        return f"{_clock(row.snapshot_saved)}, {filesizeformat(row.snapshot_bytes)}"

    def get_queryset(self, request: HttpRequest) -> QuerySet[LiveSession]:
        # The list, its filters and its actions see live rows only.
        return _reported_rows()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        # The admin index shows "View", not "Change": live sessions are read, not edited
        # (their actions still need the change permission).
        return {**super().get_model_perms(request), "change": False}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in LiveSession._meta.fields]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Nothing here is edited in a form: Django's "Select live session to change" would mislead.
        extra = {"title": "Live sessions", **(extra_context or {}), "freshness": _freshness(), **_stopped()}
        extra.update(_unclustered())
        return super().changelist_view(request, extra)

    def get_urls(self) -> list[Any]:
        urls = [
            path(
                "<path:object_id>/live/",
                self.admin_site.admin_view(self.live_view),
                name="docsync_livesession_live",
            )
        ]
        return urls + super().get_urls()

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # The detail of a live session is its live state, asked of the owning process.
        return HttpResponseRedirect(reverse("admin:docsync_livesession_live", args=[object_id]))

    def live_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Show a session's connections, document tree and callbacks; run its actions."""
        if not self.has_view_permission(request):
            return HttpResponse("forbidden", status=403)
        row = LiveSession.objects.filter(pk=object_id).first()
        if row is None or not _reported_rows().filter(pk=row.pk).exists():
            # No process holds it now: say what became of it rather than a bare 404.
            if request.method == "POST":
                messages.error(request, "The session is not live: nothing was done.")
            return self._gone_view(request, object_id, row)
        if request.method == "POST":
            return self._post_action(request, row)
        detail: dict[str, Any] | None = None
        problem = None
        page, model = _page_asked(request.GET.get("page")), request.GET.get("model") or None
        try:
            # One page of the document's models (or one model): a session may hold thousands.
            detail = _command(row.process, "describe", row.session_id, page=page, model=model)
        except Exception as exc:
            problem = str(exc)
            if row.reported < _silent_since(dt.datetime.now(tz=dt.UTC)):
                # Another machine's process that went silent: not known gone before PROCESS_TIMEOUT.
                since = _clock(row.reported)
                problem += f" (process {row.process} has not responded since {since}: it may have stopped)"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Live session {row.short_id} of {row.app}",
            "row": row,
            "session_user": _user(row),
            "created": _clock(row.created, date=True),
            "last_activity": _clock(row.last_activity, date=True),
            "detail": _with_clock_times(detail),
            "model_pages": _page_links(detail.get("page", 1), detail.get("pages", 1)) if detail else [],
            "models_per_page": MODELS_PER_PAGE,
            "problem": problem,
            "freshness": _freshness(),
            "can_change": self.has_change_permission(request),
            "max_notice_chars": MAX_NOTICE_CHARS,
        }
        return TemplateResponse(request, "admin/docsync/livesession/live.html", context)

    def _gone_view(self, request: HttpRequest, session_id: str, row: LiveSession | None) -> HttpResponse:
        """The page of a session no process holds: what became of it, and whether it can come back."""
        if row is None:
            what = (
                "No process holds this session: it ended (it expired unused, or an administrator "
                "ended it), or the process that held it stopped."
            )
        elif process_gone(row.process, row.process_started):
            what = f"The process that held this session, {row.process}, has stopped."
        else:
            timeout = _timeout().total_seconds()
            what = (
                f"The process that held this session, {row.process}, has not responded for more than "
                f"{timeout:g} s (PROCESS_TIMEOUT, at least twice ADMIN_REFRESH and a second): it is taken for stopped."
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Session {session_id[:10]} is not live",
            "short_id": session_id[:10],
            "session_id": session_id,
            "row": row,
            "what": what,
            "store": _store_says(session_id),
        }
        if row is not None:
            context.update(
                session_user=_user(row),
                created=_clock(row.created, date=True),
                last_activity=_clock(row.last_activity, date=True),
                reported=_clock(row.reported, date=True),
            )
        return TemplateResponse(request, "admin/docsync/livesession/gone.html", context)

    def _post_action(self, request: HttpRequest, row: LiveSession) -> HttpResponse:
        if not self.has_change_permission(request):
            return HttpResponse("forbidden", status=403)
        action = request.POST.get("action")
        back = reverse("admin:docsync_livesession_live", args=[row.session_id])
        try:
            if action == "expire":
                _command(row.process, "expire", row.session_id)
                LiveSession.objects.filter(pk=row.pk).delete()
                messages.success(request, f"Session {row.short_id} expired.")
                return HttpResponseRedirect(reverse("admin:docsync_livesession_changelist"))
            if action in ("keep_alive", "allow_expiry"):
                on = action == "keep_alive"
                _command(row.process, "keep_alive", row.session_id, on=on)
                LiveSession.objects.filter(pk=row.pk).update(keep_alive=on)
                messages.success(request, "Session kept from expiring." if on else "Session may expire again.")
            elif action == "notice":
                text = request.POST.get("text", "").strip()
                if not text:
                    messages.error(request, "Write a message to send.")
                elif len(text) > MAX_NOTICE_CHARS:
                    # The page's field stops at the bound; a longer text was cut without a word.
                    messages.error(
                        request,
                        f"A message is at most {MAX_NOTICE_CHARS} characters; this one has {len(text)}: not sent.",
                    )
                else:
                    _command(row.process, "notice", row.session_id, text=text)
                    messages.success(request, "Message sent.")
            else:
                messages.error(request, f"Unknown action {action!r}.")
        except Exception as exc:
            messages.error(request, f"The session could not be reached: {exc}")
        return HttpResponseRedirect(back)

    def _each(self, request: HttpRequest, queryset: QuerySet[LiveSession], command: str, **kw: Any) -> int:
        done = 0
        for row in queryset:
            try:
                _command(row.process, command, row.session_id, **kw)
                done += 1
            except Exception as exc:
                messages.warning(request, f"{row.short_id}: {exc}")
        return done

    @admin.action(
        description="Drain their processes: save every session, then stop",
        permissions=["change"],
    )
    def drain_processes(self, request: HttpRequest, queryset: QuerySet[LiveSession]) -> None:
        # By name and start time: rows naming a pid under two starts are two processes.
        rows = {(row.process, row.process_started): row.session_id for row in queryset}
        for (process, started), session_id in sorted(rows.items()):
            try:
                if get_registry().cluster is not None or process == get_registry().process_id:
                    # Any process of the cluster, on any machine: the admin commands' way there.
                    # Its start time goes along: a process now under a gone one's name is not drained.
                    _command(process, "drain", session_id, started=started)
                else:
                    # Not clustered: a process of this machine, by its pid and its start time
                    # (a pid the system gave to another program is not signalled).
                    send_drain(process, started)
            except Exception as exc:
                # "Process ...": Django's admin capitalizes a message's first letter (a host name's too).
                self.message_user(request, f"Process {process} not drained: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Process {process} is draining: its sessions are saved, then it stops")

    @admin.action(description="Expire selected sessions now", permissions=["change"])
    def expire_now(self, request: HttpRequest, queryset: QuerySet[LiveSession]) -> None:
        done = self._each(request, queryset, "expire")
        queryset.delete()
        messages.success(request, f"{done} session(s) expired.")

    @admin.action(description="Keep selected sessions from expiring", permissions=["change"])
    def keep_from_expiring(self, request: HttpRequest, queryset: QuerySet[LiveSession]) -> None:
        done = self._each(request, queryset, "keep_alive", on=True)
        queryset.update(keep_alive=True)
        messages.success(request, f"{done} session(s) kept from expiring.")

    @admin.action(description="Let selected sessions expire again", permissions=["change"])
    def allow_expiring(self, request: HttpRequest, queryset: QuerySet[LiveSession]) -> None:
        done = self._each(request, queryset, "keep_alive", on=False)
        queryset.update(keep_alive=False)
        messages.success(request, f"{done} session(s) may expire again.")
