"""BABYSIT_MODE: online (default), offline (spool only, never the network) or disabled (no-ops).

One place decides, for babysit.init() and for the drop-in modules (babysit.wandb, babysit.trackio,
babysit.tensorboard), so that `mode="offline"` given to wandb.init means what BABYSIT_MODE=offline means.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from ._output import OnceWarner, user_stacklevel

ONLINE = "online"
OFFLINE = "offline"
DISABLED = "disabled"
MODES = (ONLINE, OFFLINE, DISABLED)
# What other trackers call the same modes (wandb: "run" and "dryrun"), so a mode copied over works.
# "team" and "local" are the babysit *server's* BABYSIT_MODE (lib/auth/mode.ts): a shell that starts
# both the server and a script exports one of them, which says nothing against sending.
_ALIASES = {"run": ONLINE, "dryrun": OFFLINE, "shared": ONLINE, "team": ONLINE, "local": ONLINE}

_warner = OnceWarner()


def _parse(value: Any, where: str) -> Optional[str]:
    if value is None:
        return None
    text = value.strip().lower() if isinstance(value, str) else None
    if text == "" and where == "BABYSIT_MODE":
        return None  # BABYSIT_MODE= (set but empty) is the default, not a mistake
    if text in MODES:
        return text
    if text in _ALIASES:
        return _ALIASES[text]
    _warner.warn("mode:%s:%r" % (where, value)[:120], "%s must be one of %s, got %r; using %s"
                 % (where, ", ".join(MODES), value, "BABYSIT_MODE or online" if where != "BABYSIT_MODE" else "online"),
                 stacklevel=user_stacklevel())
    return None


def resolve(mode: Any = None) -> str:
    """The mode to use: `mode` when given and valid, else $BABYSIT_MODE when valid, else online.

    An invalid value warns once (never raises) and falls back, so a typo never stops training."""
    chosen = _parse(mode, "mode")
    if chosen is not None:
        return chosen
    return _parse(os.environ.get("BABYSIT_MODE"), "BABYSIT_MODE") or ONLINE
