"""Every piece of text Defuse shows to a person, in one place.

Placeholders use str.format names. Text that echoes user input is escaped by the caller
(bot.textutil.safe) before it is formatted in here.
"""

APP_NAME = "Defuse"

# --- the six steps: (title, why it matters, a line the agent may say) -----------------------
STEPS = (
    (
        "Thank them for the feedback",
        "Opening with thanks tells the customer you are on their side, not defending the company.",
        "Thank you for telling us about this. I'm glad you reached out so we can put it right.",
    ),
    (
        "Admit you don't have the details yet and ask them to explain",
        "Asking shows you take them seriously and stops you guessing at the wrong problem.",
        "I don't have the full picture yet. Could you walk me through what happened, step by step?",
    ),
    (
        "Empathise",
        "People calm down once they feel understood; name the feeling before the fix.",
        "That sounds really frustrating, especially when you were counting on it working.",
    ),
    (
        "Apologise sincerely and ask them to accept it",
        "A plain apology without excuses, and asking for acceptance, turns the conversation around.",
        "I'm sorry we let you down. Will you accept my apology while I get this sorted?",
    ),
    (
        "Take action, then ask what else you can do",
        "Doing something concrete proves the apology; the open question catches what is still left.",
        "I've done this for you now. What else can I do to make this right?",
    ),
    (
        "Follow up later",
        "A check-in after the dust settles is what turns an angry customer into a loyal one.",
        "I wanted to check in: is everything still working as it should on your side?",
    ),
)

STEP_WHY = "Why: {why}"
STEP_SAY = "Say: “{say}”"
STEP_DONE_BY = "✅ Done by {user} · {when}"
STEP_DONE_DETAIL_APOLOGY = "Apology accepted: {answer}"
STEP_DONE_DETAIL_ACTION = "Action: {action}"
STEP_DONE_DETAIL_OFFER = "Also offered: {offer}"
STEP_DONE_DETAIL_PLAN = "Follow-up plan: {plan}"
BUTTON_MARK_DONE = "Mark done"
BUTTON_UNDO = "Undo"

APOLOGY_ANSWERS = {
    "accepted": "Yes, accepted",
    "not_yet": "Not yet",
    "refused": "No, refused",
}

MOODS = {
    "calm": "🙂 Calm",
    "upset": "😕 Upset",
    "angry": "😠 Angry",
    "furious": "🤬 Furious",
}

STATUS_LABELS = {
    "open": "🟠 Open",
    "escalated": "🟣 Escalated",
    "resolved": "🟢 Resolved",
    "unresolved": "🔴 Closed, not resolved",
}

# --- case message ----------------------------------------------------------------------------
CASE_HEADER = "🧯 Angry customer: {customer}"
CASE_HEADER_NO_CUSTOMER = "🧯 Angry customer (name not given yet)"
CASE_FALLBACK = "Angry customer case #{number}: {customer}"
CASE_WHAT_HAPPENED = "*What happened*\n{summary}"
CASE_FIELD_FLAGGED = "*Flagged by*\n{user}"
CASE_FIELD_OWNER = "*Owner*\n{user}"
CASE_FIELD_STATUS = "*Status*\n{status}"
CASE_FIELD_PROGRESS = "*Progress*\n{done}/{total} steps"
CASE_FIELD_MOOD = "*Mood at intake*\n{mood}"
CASE_FIELD_LINK = "*Ticket / conversation*\n<{url}|Open>"
CASE_FIELD_SOURCE = "*Original message*\n<{url}|View>"
CASE_CONTEXT = "Case #{number} · opened {when} · the checklist is in the thread"
CASE_NO_CUSTOMER = "_not given yet: press Edit case_"
BUTTON_EDIT = "Edit case"
CHECKLIST_HEADER = "De-escalation checklist"
CHECKLIST_INTRO = "Work through the steps in any order; tick each one as you go. {done}/{total} done."
CHECKLIST_FALLBACK = "De-escalation checklist for case #{number}: {done}/{total} steps done"

# --- /angry command -------------------------------------------------------------------------
HELP = (
    "*Defuse helps you calm an angry customer and keep a record of it.*\n"
    "• `/angry Customer name: what happened` flags a case here and posts a six-step checklist in a thread.\n"
    "• `/angry` on its own opens a form (customer, what happened, mood, ticket link, channel).\n"
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
BUTTON_RETRY_POST = "Post it again"
POSTED_CASE = "Case #{number} is posted: <{url}|open it>."
SAVE_FAILED = (
    "Sorry, I couldn't save the case just now (the database did not answer). Nothing was lost; here is "
    "what you wrote so you can try again:\n>{echo}"
)
GENERIC_FAILURE = "Sorry, something went wrong on my side and that did not go through. Please try again."

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

# --- step modals -------------------------------------------------------------------------------
APOLOGY_TITLE = "Step 4: apology"
APOLOGY_QUESTION = "Did the customer accept the apology?"
ACTION_TITLE = "Step 5: take action"
ACTION_WHAT = "What did you do for the customer?"
ACTION_OFFER = "What else did you offer? (you asked: what else can I do?)"
STEP_SUBMIT = "Mark done"
NOTE_LABEL = "Note (optional)"

# --- permission / state messages --------------------------------------------------------------
CASE_NOT_FOUND = "I can't find that case any more."
STEP_ALREADY_DONE = "Step {step} was already ticked by {user}."
REPEAT_CUSTOMER = "🔁 *Repeat customer:* {count} earlier case(s): {cases}"
REPEAT_FAILED_BEFORE = "Tried before without success: {tried}"
