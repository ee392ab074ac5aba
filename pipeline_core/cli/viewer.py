"""Hand a picture to the system's viewer (``steppe show --open``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import webbrowser
from pathlib import Path

__all__ = ["open_picture"]


def open_picture(path: str | os.PathLike[str]) -> str | None:
    """Show a picture with the system's viewer, if there is one.

    Parameters
    ----------
    path : str or os.PathLike
        The picture.

    Returns
    -------
    str or None
        The viewer started (``"open"``, ``"xdg-open"``, ``"a web browser"``...), or
        None when none is available (for instance on a machine without a display).
    """
    text = os.path.abspath(os.fspath(path))
    if sys.platform == "darwin":
        command = ["open", text]
    elif os.name == "nt":  # pragma: no cover - Windows
        os.startfile(text)  # type: ignore[attr-defined]
        return "the default viewer"
    else:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return None
        opener = shutil.which("xdg-open")
        if opener is None:
            return "a web browser" if webbrowser.open(Path(text).as_uri()) else None
        command = [opener, text]
    try:
        viewer = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True,
        )
    except OSError:
        return None
    # the opener returns at once (the viewer runs on by itself); reap it in the background
    threading.Thread(target=viewer.wait, name="steppe-viewer", daemon=True).start()
    return os.path.basename(command[0])
