"""Case packages: export a published case as a zip, import one as drafts. Thin: the work is in
``archive.packages``; who may export is the privacy policy's ``can_export_case``."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from archive import privacy
from archive.models import Case, PackageImport
from archive.packages import PackageError
from archive.packages.export import export_package, package_name
from archive.packages.importing import import_package


@require_GET
@login_required
def case_package(request, pk: int):
    """The case as a case package (anonymized DICOM + manifest), for teachers and curators."""
    case = get_object_or_404(Case.objects.select_related("diagnosis", "owner"), pk=pk)
    if not privacy.can_view_case(request.user, case):
        raise Http404  # do not reveal that an unpublished case exists
    if not privacy.can_export_case(request.user, case):
        raise PermissionDenied
    response = HttpResponse(export_package([case], request.user), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{package_name([case])}"'
    response["Cache-Control"] = "private, no-store"
    return response


class PackageImportForm(forms.Form):
    package = forms.FileField(
        label=gettext_lazy("Case package (.zip)"),
        help_text=gettext_lazy(
            "A package exported by another teaching archive. Its cases become your drafts; "
            "every image is anonymized and checked again before anyone can see it."
        ),
    )


@login_required
@permission_required("archive.add_case", raise_exception=True)
def package_import(request):
    form = PackageImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            imported = import_package(form.cleaned_data["package"].read(), request.user)
        except PackageError as e:
            form.add_error("package", str(e))
        else:
            quarantined = [p for p in imported if p.status == PackageImport.Status.QUARANTINED]
            if quarantined:
                messages.error(request, quarantined[0].reason)
                return redirect("package-import")
            messages.success(
                request,
                _(
                    "Imported %(n)d case(s) as your drafts. Their images are being anonymized "
                    "and checked; the key images appear when that is done."
                )
                % {"n": len(imported)},
            )
            return redirect("my-cases")
    return render(request, "archive/package_import.html", {"form": form})
