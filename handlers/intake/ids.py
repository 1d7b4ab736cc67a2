"""Action and callback ids of this move. Flagging a case: /angry, the message shortcut, the intake form, Post it again."""

from handlers.slack.context import names

SHORTCUT_CALLBACK = "handle_angry_customer"
INTAKE_VIEW = "intake"
RETRY_POST_ACTION = "case_retry_post"

# What the value of each button names (parsed once, by handlers.slack.context).
names("case", RETRY_POST_ACTION)
