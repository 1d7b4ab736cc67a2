"""Every piece of text Defuse shows to a person: one module per move, read here as one namespace
(`texts.CASE_NOT_FOUND`), so a reviewer finds a move's words in its own file and code finds any of them.

Placeholders use str.format names. Text that echoes user input is escaped by the caller
(bot.core.textutil.safe) before it is formatted in here. Keys of the label dicts (CAUSES, MOODS, SEVERITIES,
STATUS_LABELS...) are the values of bot.core.enums.
"""

from bot.texts.case import *  # noqa: F403
from bot.texts.casefile import *  # noqa: F403
from bot.texts.closing import *  # noqa: F403
from bot.texts.common import *  # noqa: F403
from bot.texts.escalation import *  # noqa: F403
from bot.texts.followups import *  # noqa: F403
from bot.texts.guard import *  # noqa: F403
from bot.texts.handoff import *  # noqa: F403
from bot.texts.home import *  # noqa: F403
from bot.texts.intake import *  # noqa: F403
from bot.texts.learning import *  # noqa: F403
from bot.texts.routing import *  # noqa: F403
