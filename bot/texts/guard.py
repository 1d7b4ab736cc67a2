"""Requests the HTTP guard answers itself (handlers/slack/guard.py)."""

# --- requests the HTTP guard answers itself (handlers/slack/guard.py) ---------------------------
OTHER_WORKSPACE = "Defuse is installed for another workspace, so it can't act on this one. Ask your admin to install it here."
REQUEST_FAILED = "Sorry, something went wrong on my side and nothing was saved. Here is what you wrote so you can try again:\n>{echo}"
FORM_FAILED = "Sorry, something went wrong on my side and this was not saved. Your text is still here: submit again."
FORM_UNREADABLE_TITLE = "Form out of date"
FORM_UNREADABLE_CLOSE = "Close"
FORM_UNREADABLE = (
    "I couldn't read which case this form belongs to, so nothing was saved. Close it and open it again "
    "from the case's button."
)
NOT_SAVED = (
    "Sorry, {what} did not go through: the database did not answer. Here is what you wrote, so you can "
    "try again in a moment:\n{echo}"
)
ESCALATION_NOT_SENT = "Your escalation of case #{number} was not sent: {problem} Here is what you wrote:\n{echo}"
