"""Intake: /angry, its help, the intake form and the message shortcut."""

# --- /angry command -------------------------------------------------------------------------
HELP = (
    "*Defuse helps you calm an angry customer and keep a record of it.*\n"
    "• `/angry Customer name: what happened` flags a case and posts the team's checklist in a thread. "
    "In a channel the customer can read, only you see my answers and the case goes to the team's cases channel.\n"
    "• `/angry` on its own opens a form (customer, what happened, mood, ticket link, channel).\n"
    "• `/angry export [days]` (team leads) sends you the team's records as CSV files.\n"
    "• `/angry help` shows this message.\n"
    "You can also use the *Handle angry customer* shortcut on a customer's message."
)
OPENING_CASE = "Opening a case for {customer}…"
OPENING_CASE_NO_CUSTOMER = "Opening a case…"
ASK_FOR_CUSTOMER = (
    "Case #{number} is open. I couldn't tell who the customer is: write it as "
    "`/angry Customer: what happened` next time, and press *Edit case* on the case to add the name now."
)
UNKNOWN_SUBCOMMAND = (
    "I don't know `/angry {word}`. To flag a case write `/angry Customer: what happened`, "
    "or just `/angry` for a form. `/angry help` explains more."
)
TOO_LONG = (
    "That is {length:,} characters; the limit is {limit:,}. Nothing was created. "
    "Run `/angry` on its own and use the form, or shorten the description."
)
NOT_IN_CHANNEL = (
    "Case #{number} is saved, but I can't post in <#{channel}> because I'm not a member. "
    "Invite me with `/invite @Defuse` there, then press *Post it again*."
)
CHANNEL_UNREACHABLE = (
    "Case #{number} is saved, but I can't post in that conversation (Slack said `{error}`). "
    "Pick a channel I'm in, or invite me with `/invite @Defuse`, then press *Post it again*."
)
POST_FAILED = (
    "Case #{number} is saved, but Slack refused the message (`{error}`). Press *Post it again* in a moment."
)

# --- intake modal ----------------------------------------------------------------------------
INTAKE_TITLE = "Angry customer"
INTAKE_SUBMIT = "Open case"
INTAKE_CLOSE = "Cancel"
INTAKE_CUSTOMER = "Customer"
INTAKE_CUSTOMER_HINT = "A name, company, e-mail or @mention, so earlier cases can be found."
INTAKE_SUMMARY = "What happened"
INTAKE_SUMMARY_HINT = "In the customer's words where you can."
INTAKE_MOOD = "How angry are they?"
INTAKE_LINK = "Link to the ticket or conversation"
INTAKE_CHANNEL = "Post the case in"
INTAKE_QUOTE_PREFIX = "From their message:\n"
EDIT_TITLE = "Edit case"
EDIT_SUBMIT = "Save"
ERR_REQUIRED = "Please fill this in."
ERR_NOT_URL = "This needs to be a web address starting with http:// or https://"
ERR_TOO_LONG = "Please keep this under {limit:,} characters."
ERR_NO_CHANNEL = "Pick a channel for the case."

# --- message shortcut --------------------------------------------------------------------------
SHORTCUT_EMPTY = "(the message had no text)"
ALREADY_ESCALATED = "Case #{number} is already escalated; post an update on the escalation instead."
HANDOFF_NOT_YOURS = "This request was sent to {user}; only they can answer it."
FEEDBACK_FORWARD_FAILED = (
    "Your review is saved, but I couldn't post the UX issue to <#{channel}> (Slack said `{error}`). "
    "Invite me there with `/invite @Defuse`."
)
