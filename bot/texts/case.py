"""The case message and its checklist: steps, moods, statuses, the guide and the step forms."""

APP_NAME = "Defuse"

# An open step shows its title and one short line; the rest is in the guide (a click away).
STEP_OPEN = "{mark} *{number}. {title}*\n{line}"
STEP_MARK_NEXT = "👉"
STEP_MARK_OPEN = "⬜"
STEP_SAY = "Say: “{say}”"
# A done step folds to one line: what, who, when (and what the step's form recorded, shortened).
STEP_DONE_LINE = "✅ {number}. {title} — {user}{when}"  # when: " · <date>" or empty
STEP_DONE_DETAIL_APOLOGY = "Apology accepted: {answer}"
STEP_DONE_DETAIL_ACTION = "Action: {action}"
STEP_DONE_DETAIL_OFFER = "Also offered: {offer}"
STEP_DONE_DETAIL_PLAN = "Follow-up plan: {plan}"
BUTTON_MARK_DONE = "Mark done"
BUTTON_UNDO = "Undo"
BUTTON_GUIDE = "Why & what to say"
GUIDE_TITLE = "Why & what to say"
GUIDE_CLOSE = "Close"
GUIDE_STEP = "*{number}. {title}*\n*Why it matters:* {why}\n*What to say:*\n{say}"

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
CASE_FIELD_FLAGGED_IN = "*Flagged in*\n{where}"
FLAGGED_IN_DM = "a direct message (only its members can open it)"
CASE_CONTEXT = "Case #{number} · opened {when} · the checklist is in the thread"
CASE_PLAYBOOK = "Playbook: {name}"  # shown when the case follows a team's own playbook file
CASE_NO_CUSTOMER = "_not given yet: press Edit case_"
BUTTON_EDIT = "Edit case"
CHECKLIST_HEADER = "De-escalation checklist"
CHECKLIST_INTRO = "{done}/{total} done · tick the steps in any order."
CHECKLIST_INTRO_ALL_DONE = "{done}/{total} done · every step is ticked."
CHECKLIST_FALLBACK = "De-escalation checklist for case #{number}: {done}/{total} steps done"

# --- step modals -------------------------------------------------------------------------------
APOLOGY_TITLE = "Step 4: apology"
APOLOGY_QUESTION = "Did the customer accept the apology?"
ACTION_TITLE = "Step 5: take action"
ACTION_WHAT = "What did you do for the customer?"
ACTION_OFFER = "What else did you offer? (you asked: what else can I do?)"
STEP_SUBMIT = "Mark done"
NOTE_LABEL = "Note"

CASE_FIELD_MOOD_CHANGE = "*Mood*\n{before} → {after}"
CASE_FIELD_MOOD_NOW = "*Mood now*\n{after}"
