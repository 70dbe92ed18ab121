from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from studyapp.sanitize import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """Render untrusted Markdown with math as sanitised HTML."""
    return render_markdown(text)
