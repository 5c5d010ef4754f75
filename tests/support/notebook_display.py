"""What a notebook shows when a cell displays an object, without a kernel (IPython's own display machinery)."""

from __future__ import annotations


def displayed_html(widget) -> list[str]:
    """What displaying ``widget`` in a notebook shows, output by output (its HTML, if any)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.display import display
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with capture_output() as captured:
        display(widget)
    assert "application/vnd.jupyter.widget-view+json" in captured.outputs[0].data, "the widget itself first"
    return [output.data.get("text/html", "") for output in captured.outputs]
