"""Pages of the task gate: send (with a live preview of the gate's decision), lists per box, detail with the
explanation, county decisions with resource grants, township objections. Thin: parse, call gate.py, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.core.errors import NotFoundError, PermissionDeniedError, ServiceError, authenticated_user
from gongzhi.core.models import AdminUnit
from gongzhi.core.responses import int_or_none

from . import gate
from .models import Category, DutyItem, TaskStatus
from .permissions import sender_departments

PAGE_SIZE = 50


def _labelled(matches: Any) -> list[dict[str, Any]]:
    """Matches (engine objects or their stored dicts) with the category's display name, for templates."""
    out = []
    for m in matches or ():
        d = (
            dict(m)
            if isinstance(m, dict)
            else {k: getattr(m, k) for k in ("item_id", "category", "name", "number", "score")}
        )
        d["category_label"] = Category(d["category"]).label if d.get("category") in Category.values else ""
        out.append(d)
    return out


@login_required
@require_GET
def task_list_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    box = request.GET.get("box", "")
    if box not in gate.BOXES:
        box = gate.default_box(user)
    status = request.GET.get("status", "")
    q = request.GET.get("q", "").strip()
    try:
        qs = gate.task_list(user=user, box=box, status=status, q=q)
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError:
        qs = gate.task_list(user=user, box=box, q=q)
        status = ""
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "duties/tasks/list.html",
        {
            "page": page,
            "box": box,
            "boxes": gate.boxes_for(user),
            "status": status,
            "statuses": TaskStatus.choices,
            "q": q,
            "can_send": bool(sender_departments(user)),
        },
    )


def _send_context(request: HttpRequest, user: Any, values: dict[str, Any], error: str = "") -> dict[str, Any]:
    return {
        "departments": sender_departments(user),
        "townships": list(gate.sendable_townships(user)),
        "values": values,
        "error": error,
        "today": timezone.localdate().isoformat(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def task_send_view(request: HttpRequest) -> HttpResponse:
    user = authenticated_user(request)
    if not sender_departments(user):
        raise PermissionDenied
    if request.method == "GET":
        return render(request, "duties/tasks/send.html", _send_context(request, user, {"townships": []}))
    p = request.POST
    values: dict[str, Any] = {
        "department": int_or_none(p.get("department")),
        "townships": [i for i in (int_or_none(v) for v in p.getlist("townships")) if i is not None],
        "title": p.get("title", ""),
        "content": p.get("content", ""),
        "basis": p.get("basis", ""),
        "deadline": p.get("deadline", ""),
        "expected_hours": p.get("expected_hours", ""),
        "resources_offered": p.get("resources_offered", ""),
        "cited_item": int_or_none(p.get("cited_item")),
    }
    try:
        tasks = gate.task_send(
            actor=user,
            department_id=values["department"],
            township_ids=values["townships"],
            title=values["title"],
            content=values["content"],
            basis=values["basis"],
            deadline=values["deadline"],
            expected_hours=values["expected_hours"] or "0",
            resources_offered=values["resources_offered"],
            cited_item_id=values["cited_item"],
        )
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        return render(
            request, "duties/tasks/send.html", _send_context(request, user, values, e.message), status=400
        )
    if len(tasks) == 1:
        messages.success(request, _("已提交：%(status)s") % {"status": tasks[0].get_status_display()})
        return redirect("tasks:detail", tasks[0].pk)
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t.get_status_display()] = counts.get(t.get_status_display(), 0) + 1
    summary = _("，").join(_("%(status)s %(n)s 个") % {"status": k, "n": v} for k, v in counts.items())
    messages.success(request, _("已向 %(n)s 个乡镇提交：%(summary)s") % {"n": len(tasks), "summary": summary})
    return redirect(reverse("tasks:list") + "?box=sent")


@login_required
@require_POST
def task_preview_view(request: HttpRequest) -> HttpResponse:
    """htmx partial: the gate's decision for what is typed so far, against the first chosen township's list."""
    user = authenticated_user(request)
    if not sender_departments(user):
        raise PermissionDenied
    p = request.POST
    ids = [i for i in (int_or_none(v) for v in p.getlist("townships")) if i is not None]
    title, content = p.get("title", "").strip(), p.get("content", "").strip()
    township = gate.sendable_townships(user).filter(pk__in=ids).first() if ids else None
    ctx: dict[str, Any] = {"township": township, "decision": None, "cited": int_or_none(p.get("cited_item"))}
    if township is not None and (title or content):
        decision, duty_list = gate.preview(
            township=township,
            title=title,
            content=content,
            basis=p.get("basis", ""),
            cited_item_id=ctx["cited"],
        )
        ctx.update(
            {
                "decision": decision,
                "duty_list": duty_list,
                "more": len(ids) - 1,
                "suggestions": _labelled(decision.suggestions),
            }
        )
    return render(request, "duties/tasks/_preview.html", ctx)


def _task_or_404(user: Any, pk: int) -> Any:
    try:
        return gate.task_get(user=user, pk=pk)
    except NotFoundError as e:
        raise Http404 from e


@login_required
@require_GET
def task_detail_view(request: HttpRequest, task_id: int) -> HttpResponse:
    user = authenticated_user(request)
    task = _task_or_404(user, task_id)
    return render(request, "duties/tasks/detail.html", _detail_context(user, task))


def _detail_context(user: Any, task: Any, error: str = "", form: str = "") -> dict[str, Any]:
    grant, contest = gate.task_extras(task)
    actions = gate.task_actions(user, task, contest)
    return {
        "task": task,
        "grant": grant,
        "contest": contest,
        "actions": actions,
        # A refusal is shown inside the form that caused it while that form is still offered (on a phone the form
        # sits a screen below the page top); otherwise, e.g. when someone else decided first, at the top.
        "error_inline": form if error and actions.get(form) else "",
        "explanation": task.explanation,
        "suggestions": _labelled(task.explanation.get("suggestions")),
        "error": error,
        "error_form": form,
    }


def _post_action(request: HttpRequest, task_id: int, form: str, call: Any, ok: str) -> HttpResponse:
    user = authenticated_user(request)
    try:
        call(user)
    except NotFoundError as e:
        raise Http404 from e
    except PermissionDeniedError as e:
        raise PermissionDenied(e.message) from e
    except ServiceError as e:
        task = _task_or_404(user, task_id)
        return render(
            request, "duties/tasks/detail.html", _detail_context(user, task, e.message, form), status=400
        )
    messages.success(request, ok)
    return redirect("tasks:detail", task_id)


@login_required
@require_POST
def task_decide_view(request: HttpRequest, task_id: int) -> HttpResponse:
    p = request.POST
    approve = p.get("decision") == "approve"
    return _post_action(
        request,
        task_id,
        "decide",
        lambda user: gate.task_decide(
            actor=user,
            task_id=task_id,
            approve=approve,
            note=p.get("note", ""),
            funds=p.get("funds", "") or 0,
            staff=p.get("staff", "") or 0,
            powers=p.get("powers", ""),
            grant_note=p.get("grant_note", ""),
        ),
        _("已批准准入，随事资源已记录") if approve else _("已不予准入"),
    )


@login_required
@require_POST
def task_contest_view(request: HttpRequest, task_id: int) -> HttpResponse:
    return _post_action(
        request,
        task_id,
        "contest",
        lambda user: gate.task_contest(actor=user, task_id=task_id, reason=request.POST.get("reason", "")),
        _("异议已提交县委县政府办（减负办）"),
    )


@login_required
@require_POST
def contest_decide_view(request: HttpRequest, task_id: int) -> HttpResponse:
    uphold = request.POST.get("decision") == "uphold"
    return _post_action(
        request,
        task_id,
        "decide_contest",
        lambda user: gate.contest_decide(
            actor=user, task_id=task_id, uphold=uphold, note=request.POST.get("note", "")
        ),
        _("异议成立，任务已撤回") if uphold else _("已驳回异议"),
    )


@login_required
@require_GET
def cited_items_view(request: HttpRequest) -> HttpResponse:
    """htmx partial: the items of a township's current list, to cite one in the send form."""
    user = authenticated_user(request)
    if not sender_departments(user):
        raise PermissionDenied
    township = gate.sendable_townships(user).filter(pk=int_or_none(request.GET.get("township")) or 0).first()
    duty_list = gate.current_list(township) if isinstance(township, AdminUnit) else None
    items = (
        DutyItem.objects.filter(duty_list=duty_list).only("id", "number", "name", "category")
        if duty_list
        else DutyItem.objects.none()
    )
    return render(request, "duties/tasks/_cited_items.html", {"items": items, "township": township})
