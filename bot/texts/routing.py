"""Where a case may go (conversations the customer can read) and getting it into Slack exactly once."""

# --- conversations the customer can read (Slack Connect, DMs with outsiders) -----------------
NEEDS_CASES_CHANNEL = (
    "People from outside your organisation can read this conversation, so I posted nothing here and opened no "
    "case. To keep such cases, an admin sets `CASES_CHANNEL` to the ID of an internal support channel; cases "
    "flagged here then go there, with a link back. Only you can see this. Here is what you wrote:\n{echo}"
)
CASE_MOVED = (
    "Only you can see this. People from outside your organisation read this conversation, so case #{number} "
    "and its checklist are in <#{channel}>: <{url}|open it>. Nothing was posted here."
)
AUDIENCE_UNKNOWN = (
    "Case #{number} is saved, but I couldn't check who can read this conversation (Slack said `{error}`), "
    "so I posted nothing anywhere. Press *Post it again* in a moment."
)
CASES_CHANNEL_SHARED = (
    "Case #{number} is saved but not posted: `CASES_CHANNEL` (<#{channel}>) is itself shared with another "
    "organisation, so the customer could read it there. Ask an admin to set it to an internal channel, "
    "then press *Post it again*."
)
INTAKE_EXTERNAL_NOTICE = (
    "🔒 People from outside your organisation can read <#{source}>. The case will be posted in <#{channel}> "
    "with a link back; nothing is posted in the shared conversation."
)
INTAKE_EXTERNAL_REFUSED = (
    "🔒 People from outside your organisation can read <#{source}>, and `CASES_CHANNEL` is not set, so a case "
    "from here can't be opened. Pick an internal channel below, or ask an admin to set `CASES_CHANNEL`."
)
BUTTON_RETRY_POST = "Post it again"
POSTED_CASE = "Case #{number} is posted: <{url}|open it>."
POSTED_ELSEWHERE = "Only you can see this. Case #{number} is posted in <#{channel}>: <{url}|open it>."
SAVE_FAILED = (
    "Sorry, I couldn't save the case just now (the database did not answer). Nothing was lost; here is "
    "what you wrote so you can try again:\n>{echo}"
)
GENERIC_FAILURE = "Sorry, something went wrong on my side and that did not go through. Please try again."

# --- durable intake and delivery (bot.delivery, bot.sweep) ----------------------------------------
CASE_NOT_SAVED = (
    "Sorry, I couldn't save this case just now: the database did not answer in time. It is *not saved*, "
    "so here is your text to send again in a minute:\n>{echo}\n"
    "(If the save still goes through, I'll post the case and tell you here.)"
)
FORM_NOT_SAVED = (
    "Couldn't save just now (the database did not answer in time). Your text is still here: press Submit again in a minute."
)
SAVED_LATE = "The database answered after all: case #{number} is saved and I'm posting it now."
POST_BUSY = "Case #{number} is being posted right now by another Defuse process. Give it a minute."
POST_UNCONFIRMED = (
    "Case #{number} is saved, but Slack did not confirm the message in <#{channel}> (it may have arrived). "
    "I'll check within about a minute and post it if it is missing. If you don't see it there and can't wait, "
    "press *Post it again*."
)
CHECKLIST_UNCONFIRMED = (
    "Case #{number} is posted, but Slack did not confirm its checklist. I'll check within about a minute and add it if it is missing."
)
POSTED_AFTER_RESTART = "Case #{number} is posted now (a restart or a Slack hiccup held it up): <{url}|open it>."
HANDOFF_DM_UNCONFIRMED = (
    "Slack did not confirm my DM to {colleague} about case #{number} (it may have arrived). "
    "I'll check within about a minute and send it if it is missing; I'll tell you when they answer."
)
