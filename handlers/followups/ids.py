"""Action and callback ids of this move. Follow-up and breather DMs: their buttons and the followed-up form."""

from handlers.slack.context import names

FOLLOWED_UP_ACTION = "reminder_followed_up"
FOLLOWED_UP_VIEW = "followed_up"
SNOOZE_ACTION = "reminder_snooze"
SKIP_ACTION = "reminder_skip"
BREATHER_START_ACTION = "breather_start"
BREATHER_SKIP_ACTION = "breather_skip"

# What the value of each button names (parsed once, by handlers.slack.context).
names("reminder", FOLLOWED_UP_ACTION, SKIP_ACTION, BREATHER_START_ACTION, BREATHER_SKIP_ACTION)
