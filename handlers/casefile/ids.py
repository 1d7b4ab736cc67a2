"""Action and callback ids of this move. The case file: editing the case, attempts and notes."""

from handlers.slack.context import names

EDIT_ACTION = "case_edit"
EDIT_VIEW = "case_edit"
ATTEMPT_ACTION = "case_attempt"
ATTEMPT_VIEW = "attempt"
NOTE_ACTION = "case_note"
NOTE_VIEW = "note"

# What the value of each button names (parsed once, by handlers.slack.context).
names("case", EDIT_ACTION, ATTEMPT_ACTION, NOTE_ACTION)
